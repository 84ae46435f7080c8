using System.Text;
using Failmail.Outputs.Irc;
using Xunit;

namespace Failmail.Tests.Outputs.Irc;

public class IrcTextTests
{
    [Fact]
    public void LineBreaksAndNulCannotStartACommand()
    {
        Assert.Equal("disk full  QUIT :bye  x", IrcText.Clean("disk full\r\nQUIT :bye\0\tx"));
    }

    [Fact]
    public void LongTextIsSplitAtSpacesWithinTheBudget()
    {
        var text = string.Join(' ', Enumerable.Repeat("word", 100));
        var lines = IrcText.Split(text, 50);
        Assert.All(lines, l => Assert.True(Encoding.UTF8.GetByteCount(l) <= 50));
        Assert.All(lines, l => Assert.DoesNotContain("wor ", l + " ", StringComparison.Ordinal));
        Assert.Equal(text.Replace(" ", "", StringComparison.Ordinal), string.Concat(lines).Replace(" ", "", StringComparison.Ordinal));
    }

    [Fact]
    public void MultiByteCharactersAreNeverCutInTheMiddle()
    {
        var text = string.Concat(Enumerable.Repeat("é€😀", 200));
        foreach (var budget in new[] { 4, 5, 6, 7, 50, 401 })
        {
            var lines = IrcText.Split(text, budget);
            Assert.All(lines, l =>
            {
                Assert.True(Encoding.UTF8.GetByteCount(l) <= budget);
                // A cut surrogate pair would not survive a strict round trip.
                Assert.Equal(l, new UTF8Encoding(false, true).GetString(new UTF8Encoding(false, true).GetBytes(l)));
            });
            Assert.Equal(text, string.Concat(lines));
        }
    }

    [Fact]
    public void EmptyTextIsOneEmptyLine() => Assert.Equal([""], IrcText.Split(" \r\n ", 10));

    [Fact]
    public void BudgetLeavesRoomForThePrefixTheServerAdds()
    {
        var target = new IrcTarget("h", 6667, false, "alerts", null, "#ops", null);
        var budget = IrcText.TextBudget(target);
        var relayed = $":alerts!{new string('u', 10)}@{new string('h', 63)} PRIVMSG #ops :{new string('x', budget)}\r\n";
        Assert.True(Encoding.UTF8.GetByteCount(relayed) <= IrcText.MaxLine);
        Assert.True(budget > 300);
    }
}
