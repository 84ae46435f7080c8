using Failmail.Intake;

namespace Failmail.Tests.Intake;

public class EnvelopeInternerTests
{
    [Fact]
    public void RepeatedValuesAreSharedAndListsAreReadOnly()
    {
        var interner = new EnvelopeInterner();
        var a = interner.Intern(new string("app@example.com".AsSpan()));
        var b = interner.Intern(new string("app@example.com".AsSpan()));
        Assert.Same(a, b);
        var one = interner.Intern(new List<string> { "ops@example.com" });
        var again = interner.Intern(new List<string> { new("ops@example.com".AsSpan()) });
        Assert.Same(one, again);
        Assert.Equal(["ops@example.com"], one);
        Assert.False(one is List<string>);
        var two = interner.Intern(new List<string> { "a@example.com", "ops@example.com" });
        Assert.Equal(["a@example.com", "ops@example.com"], two);
        Assert.Same(one[0], two[1]);
    }

    [Fact]
    public void PastTheBoundValuesAreReturnedUnshared()
    {
        var interner = new EnvelopeInterner();
        for (var i = 0; i < EnvelopeInterner.MaxEntries + 10; i++)
        {
            Assert.Equal($"u{i}@example.com", interner.Intern($"u{i}@example.com"));
        }
        var late = new string("late@example.com".AsSpan());
        Assert.Same(late, interner.Intern(late));
        // Not kept: an equal string later is returned as itself, not as the first one.
        Assert.NotSame(late, interner.Intern(new string("late@example.com".AsSpan())));
    }
}
