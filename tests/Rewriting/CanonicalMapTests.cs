using Failmail.Rewriting;

namespace Failmail.Tests.Rewriting;

public sealed class CanonicalMapTests
{
    private static CanonicalMap Parse(string text, string staticAddress = "") =>
        CanonicalMap.Parse("canonical", MapFileReader.ReadLogicalLines("canonical", text.Split('\n')), staticAddress);

    private static bool IsLocal(string address) => address.EndsWith("@host1.example.com", StringComparison.OrdinalIgnoreCase);

    [Fact]
    public void ExactAddressBeatsLocalNameBeatsDomain()
    {
        var map = Parse("""
            root@host1.example.com   exact@example.com
            root                     local@example.com
            www-data                 web@example.com
            @host1.example.com       @example.com
            """);
        Assert.Equal("exact@example.com", map.Map("root@host1.example.com", IsLocal));
        Assert.Equal("web@example.com", map.Map("WWW-DATA@HOST1.example.com", IsLocal));
        // "@domain" as the replacement keeps the local part.
        Assert.Equal("backup@example.com", map.Map("backup@host1.example.com", IsLocal));
        Assert.Equal("someone@elsewhere.org", map.Map("someone@elsewhere.org", IsLocal));
    }

    [Fact]
    public void LocalNameEntriesDoNotMatchForeignDomains()
    {
        var map = Parse("root local@example.com");
        Assert.Equal("root@other.org", map.Map("root@other.org", IsLocal));
    }

    [Fact]
    public void StaticCatchesWhatTheTableDidNotMap()
    {
        var map = Parse("ops@example.com ops@example.com", staticAddress: "alerts@example.com");
        Assert.Equal("ops@example.com", map.Map("ops@example.com", IsLocal));
        Assert.Equal("alerts@example.com", map.Map("root@host1.example.com", IsLocal));
        Assert.Equal("", map.Map("", IsLocal));
    }

    [Fact]
    public void TheMapIsAppliedOnceNotRecursively()
    {
        var map = Parse("a@x.org b@x.org\nb@x.org c@x.org");
        Assert.Equal("b@x.org", map.Map("a@x.org", IsLocal));
    }

    [Theory]
    [InlineData("root", 1)]
    [InlineData("# c\nroot a@x b@x", 2)]
    [InlineData("a@x b@x\nA@X c@x", 2)]
    [InlineData("@ a@x", 1)]
    public void BadLinesAreRejectedWithTheLineNumber(string text, int line)
    {
        var e = Assert.Throws<FormatException>(() => Parse(text));
        Assert.StartsWith($"canonical:{line}: ", e.Message, StringComparison.Ordinal);
    }
}
