using Failmail.Rewriting;

namespace Failmail.Tests.Rewriting;

public sealed class MasqueradeTests
{
    [Theory]
    [InlineData("root@host1.example.com", "root@example.com")]
    [InlineData("root@a.b.example.com", "root@example.com")]
    [InlineData("root@host1.a.example.com", "root@a.example.com")]
    [InlineData("root@example.com", "root@example.com")]
    [InlineData("root@a.example.com", "root@a.example.com")]
    [InlineData("root@notexample.com", "root@notexample.com")]
    [InlineData("root@HOST1.EXAMPLE.COM", "root@example.com")]
    [InlineData("root", "root")]
    [InlineData("", "")]
    public void StripsSubdomainsOfTheFirstListedDomain(string address, string expected)
    {
        var masquerade = new Masquerade("a.example.com, example.com");
        Assert.Equal(expected, masquerade.Apply(address));
    }

    [Fact]
    public void AListedDomainStopsTheSearchSoAnEarlierEntryIsNotStripped()
    {
        // a.example.com is listed itself: it is kept, not shortened by the later example.com.
        Assert.Equal("x@a.example.com", new Masquerade("a.example.com,example.com").Apply("x@a.example.com"));
    }

    [Theory]
    [InlineData("example.com,!a.example.com")]
    [InlineData("ops@example.com")]
    [InlineData("exa mple.com")]
    public void BadDomainsAreRejected(string domains)
    {
        var e = Assert.Throws<ArgumentException>(() => new Masquerade(domains));
        Assert.StartsWith("--masquerade-domains: ", e.Message, StringComparison.Ordinal);
    }
}
