using Failmail.Cli;

namespace Failmail.Tests.Cli;

public sealed class CtlCommandTests
{
    [Theory]
    [InlineData("subject=disk full", "subject", "disk full", true, false)]
    [InlineData("subject!=disk", "subject", "disk", false, false)]
    [InlineData("subject=~disk.*", "subject", "disk.*", true, true)]
    [InlineData("header:X-Host!~\"db[0-9]+\"", "header:X-Host", "db[0-9]+", false, true)]
    [InlineData("to=a=b@example.com", "to", "a=b@example.com", true, false)]
    public void MatchersUseAmtoolsSyntax(string text, string name, string value, bool isEqual, bool isRegex)
    {
        var matcher = CtlCommand.ParseMatcher(text);
        Assert.NotNull(matcher);
        Assert.Equal(name, matcher.Name);
        Assert.Equal(value, matcher.Value);
        Assert.Equal(isEqual, matcher.IsEqual);
        Assert.Equal(isRegex, matcher.IsRegex);
    }

    [Theory]
    [InlineData("subject")]
    [InlineData("=value")]
    public void AMatcherWithoutANameOrOperatorIsRefused(string text)
    {
        Assert.Null(CtlCommand.ParseMatcher(text));
    }

    [Fact]
    public void BatchesRenderAsAnAlignedTable()
    {
        var json = """[{"id":7,"batchKey":"","recipient":"ops@example.com","count":25,"groups":[{"key":"k","subject":"disk\nfull","count":25}],"firstSeen":"2026-12-04T12:00:00Z","lastSeen":"2026-12-04T12:01:00Z","sendAt":"2026-12-04T12:06:00Z"}]""";
        var lines = CtlTables.Render("batches", json).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("ID  RECIPIENT", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("7   ops@example.com", lines[1], StringComparison.Ordinal);
        Assert.Contains("25× disk full", lines[1], StringComparison.Ordinal);
    }
}
