using Failmail.Rewriting;

namespace Failmail.Tests.Rewriting;

public sealed class AliasTableTests
{
    private static AliasTable Parse(string text) =>
        AliasTable.Parse("aliases", MapFileReader.ReadLogicalLines("aliases", text.Split('\n')));

    private static bool IsLocal(string address) => !address.Contains('@', StringComparison.Ordinal) || address.EndsWith("@host1.example.com", StringComparison.Ordinal);

    [Fact]
    public void ExpandsListsCommentsAndContinuationLines()
    {
        var table = Parse("""
            # system aliases
            postmaster: root

            root: ops@example.com,
              admin@example.org ,
            	pager@example.net
            """);
        Assert.Equal(["ops@example.com", "admin@example.org", "pager@example.net"], table.Expand("postmaster", IsLocal));
        Assert.Equal(2, table.Count);
    }

    [Fact]
    public void NamesAreCaseInsensitiveAndUnknownNamesStayThemselves()
    {
        var table = Parse("Root: ops@example.com");
        Assert.Equal(["ops@example.com"], table.Expand("ROOT", IsLocal));
        Assert.Equal(["www-data"], table.Expand("www-data", IsLocal));
    }

    [Fact]
    public void LocalTargetsInTheQualifyDomainExpandRecursively()
    {
        var table = Parse("""
            a: b@host1.example.com, x@example.com
            b: c
            c: z@example.com
            """);
        Assert.Equal(["z@example.com", "x@example.com"], table.Expand("a", IsLocal));
    }

    [Fact]
    public void ALoopStopsAndDeliversTheRepeatedName()
    {
        var table = Parse("""
            a: b
            b: a, out@example.com
            """);
        Assert.Equal(["a", "out@example.com"], table.Expand("a", IsLocal));
    }

    [Fact]
    public void ASelfReferenceKeepsTheNameBesideItsCopies()
    {
        var table = Parse("root: root, ops@example.com");
        Assert.Equal(["root", "ops@example.com"], table.Expand("root", IsLocal));
    }

    [Fact]
    public void DefaultCatchesLocalNamesWithoutAnEntryButNotNamedOnes()
    {
        var table = Parse("""
            default: ops
            root: admin@example.org
            """);
        Assert.Equal(["ops"], table.Expand("www-data", IsLocal));
        Assert.Equal(["admin@example.org"], table.Expand("root", IsLocal));
        // ops itself has no entry: default would send it to ops again, which ends the loop.
        Assert.Equal(["ops"], table.Expand("ops", IsLocal));
    }

    [Fact]
    public void DuplicateTargetsAppearOnce()
    {
        var table = Parse("""
            a: b, c
            b: x@example.com
            c: x@example.com
            """);
        Assert.Equal(["x@example.com"], table.Expand("a", IsLocal));
    }

    [Theory]
    [InlineData("root: ops\nbackup: :include:/etc/list", 2, ":include:")]
    [InlineData("root: ops\n\n# c\nlog: |/usr/bin/logger", 4, "pipe and file")]
    [InlineData("root: /var/mail/root", 1, "pipe and file")]
    [InlineData("root ops", 1, "expected")]
    [InlineData("root:", 1, "no targets")]
    [InlineData("root: a,,b", 1, "empty target")]
    [InlineData("root: a\nRoot: b", 2, "duplicate alias \"Root\" (first defined on line 1)")]
    [InlineData("root@example.com: a", 1, "bad alias name")]
    [InlineData("  ops", 1, "continuation line")]
    public void BadFilesAreRejectedWithTheLineNumber(string text, int line, string message)
    {
        var e = Assert.Throws<FormatException>(() => Parse(text));
        Assert.StartsWith($"aliases:{line}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ContinuedEntriesReportTheirFirstLine()
    {
        var e = Assert.Throws<FormatException>(() => Parse("root: ops\nbad: a,\n  :include:/x"));
        Assert.StartsWith("aliases:2: ", e.Message, StringComparison.Ordinal);
    }
}
