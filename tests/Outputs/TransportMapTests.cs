using Failmail.Outputs;
using Failmail.Tests.Maildir;

namespace Failmail.Tests.Outputs;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class TransportMapTests
{
    private static TransportMap Parse(string text, Func<string, string?>? env = null)
    {
        Assert.True(TransportMap.TryParse(text, "map", env ?? (_ => null), out var map, out var problems), string.Join("\n", problems));
        return map;
    }

    private static IReadOnlyList<string> Problems(string text)
    {
        Assert.False(TransportMap.TryParse(text, "map", _ => null, out _, out var problems));
        return problems;
    }

    [Fact]
    public void FullAddressBeatsDomainBeatsWildcard()
    {
        var map = Parse("""
            # pages go to PagerDuty and mail
            ops-page@example.com   pagerduty:KEY1, smtp
            @example.com           slack+https://hooks.slack.com/services/T/B/X
            *                      smtp   # everything else
            """);
        Assert.Equal([OutputKind.PagerDuty, OutputKind.Smtp], map.Lookup("ops-page@example.com").Select(t => t.Kind));
        Assert.Equal([OutputKind.PagerDuty, OutputKind.Smtp], map.Lookup("OPS-PAGE@Example.COM").Select(t => t.Kind));
        Assert.Equal([OutputKind.Slack], map.Lookup("dev@example.com").Select(t => t.Kind));
        Assert.Equal([OutputKind.Smtp], map.Lookup("root@other.org").Select(t => t.Kind));
        Assert.Equal(2, map.Outputs.Count);
    }

    [Fact]
    public void NoMatchAndNoWildcardIsSmtp()
    {
        var map = Parse("a@example.com webhook+http://127.0.0.1:9/x\n");
        Assert.Equal([OutputKind.Smtp], map.Lookup("b@example.com").Select(t => t.Kind));
        Assert.Equal([OutputKind.Smtp], TransportMap.Empty.Lookup("anyone@x").Select(t => t.Kind));
    }

    [Fact]
    public void TheSameTargetOnTwoLinesIsOneOutput()
    {
        var map = Parse("a@example.com slack+https://h/x\nb@example.com slack+https://h/x, smtp\n");
        Assert.Single(map.Outputs);
        Assert.Equal(map.Lookup("a@example.com")[0].Id, map.Lookup("b@example.com")[0].Id);
    }

    [Fact]
    public void EnvironmentAndFileSecretsAreExpanded()
    {
        using var dir = new TempDirectory();
        var keyFile = dir.Combine("pd.key");
        File.WriteAllText(keyFile, "FROMFILE\n");
        var map = Parse($"a@x.org pagerduty:${{PD_KEY}}\nb@x.org pagerduty:file:{keyFile}\n", name => name == "PD_KEY" ? "FROMENV" : null);
        Assert.Equal("FROMENV", map.Lookup("a@x.org")[0].RoutingKey);
        Assert.Equal("FROMFILE", map.Lookup("b@x.org")[0].RoutingKey);
        // The id comes from the text as written: rotating the secret keeps the queue.
        Assert.StartsWith("pagerduty-", map.Lookup("a@x.org")[0].Id, StringComparison.Ordinal);
        Assert.DoesNotContain("FROMENV", map.Lookup("a@x.org")[0].Display, StringComparison.Ordinal);
    }

    [Fact]
    public void ProblemsNameTheLineAndNeverTheSecret()
    {
        var problems = Problems("""
            a@x.org
            b@x.org  gopher+https://x/y
            c@x.org  pagerduty:${MISSING}
            not-an-address  smtp
            d@x.org  slack+ftp://secret-token@h/x
            e@x.org  smtp
            e@x.org  smtp
            """);
        Assert.Contains(problems, p => p.StartsWith("map:1:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("map:2: unknown output gopher+", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("map:3: environment variable MISSING", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("map:4: not-an-address", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("map:5:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("map:7: e@x.org is given twice", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.Contains("secret-token", StringComparison.Ordinal));
    }

    [Fact]
    public void AFileOthersCanReadIsWarnedAbout()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("transport");
        File.WriteAllText(path, "* smtp\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Assert.Empty(TransportMap.Check(path, null, out var warnings));
        Assert.Contains("readable by other users", Assert.Single(warnings), StringComparison.Ordinal);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Empty(TransportMap.Check(path, null, out warnings));
        Assert.Empty(warnings);
    }

    [Fact]
    public void AMissingFileIsOneProblem()
    {
        var problems = TransportMap.Check("/nonexistent/transport", null, out _);
        Assert.StartsWith("/nonexistent/transport: ", Assert.Single(problems), StringComparison.Ordinal);
    }
}
