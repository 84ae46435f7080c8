using System.Text;
using Failmail.Outputs;
using Failmail.Tests.Maildir;

namespace Failmail.Tests.Outputs;

public class OutputTargetParserTests
{
    [Theory]
    [InlineData("slack+https://hooks.slack.com/services/T/B/X", "Slack", "https://hooks.slack.com/services/T/B/X")]
    [InlineData("discord+https://discord.com/api/webhooks/1/TOKEN", "Discord", "https://discord.com/api/webhooks/1/TOKEN")]
    [InlineData("teams+https://prod.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=S", "Teams",
        "https://prod.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=S")]
    [InlineData("webhook+http://127.0.0.1:8080/alerts", "Webhook", "http://127.0.0.1:8080/alerts")]
    [InlineData("pagerduty:R0UTINGKEY", "PagerDuty", OutputTargetParser.PagerDutyEnqueue)]
    [InlineData("pagerduty+http://127.0.0.1:9/v2/enqueue?routing_key=K&severity=warning", "PagerDuty", "http://127.0.0.1:9/v2/enqueue")]
    [InlineData("irc://failmail@irc.example.net:6667/ops", "Irc", "irc://failmail@irc.example.net:6667/ops")]
    [InlineData("ircs://failmail@irc.example.net/ops", "Irc", "ircs://failmail@irc.example.net/ops")]
    public void EachDocumentedFormParses(string text, string kind, string endpoint)
    {
        var target = OutputTestKit.Target(text);
        Assert.Equal(kind, target.Kind.ToString());
        Assert.Equal(new Uri(endpoint), target.Endpoint);
    }

    [Fact]
    public void PagerDutyKeyAndSeverityComeFromTheTarget()
    {
        var target = OutputTestKit.Target("pagerduty+http://127.0.0.1:9/v2/enqueue?routing_key=K&severity=Warning");
        Assert.Equal("K", target.RoutingKey);
        Assert.Equal("warning", target.Severity);
        Assert.False(OutputTargetParser.TryParse("pagerduty:K?severity=loud", _ => null, out _, out var error));
        Assert.Contains("severity", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TwilioTakesBasicAuthFromUserinfoOrFile()
    {
        var target = OutputTestKit.Target("twilio+https://AC123:tok%40en@api.twilio.com/2010-04-01/Accounts/AC123/Messages.json?from=%2B15550001&to=%2B15550002");
        Assert.Equal(("AC123", "tok@en"), (target.User, target.Password));
        Assert.Equal(("+15550001", "+15550002"), (target.From, target.To));
        Assert.Equal("", target.Endpoint!.UserInfo);
        Assert.Equal("", target.Endpoint.Query);

        using var dir = new TempDirectory();
        var auth = dir.Combine("twilio");
        File.WriteAllText(auth, "AC9:secret\n");
        target = OutputTestKit.Target($"twilio+https://api.twilio.com/2010-04-01/Accounts/AC9/Messages.json?from=1&to=2&auth=file:{auth}");
        Assert.Equal(("AC9", "secret"), (target.User, target.Password));
        Assert.False(OutputTargetParser.TryParse("twilio+https://api.twilio.com/x?from=1&to=2", _ => null, out _, out var error));
        Assert.Contains("AUTH_TOKEN", error, StringComparison.Ordinal);
    }

    [Fact]
    public void WebhookSecretComesFromAFileAndLeavesTheUrl()
    {
        using var dir = new TempDirectory();
        var secret = dir.Combine("secret");
        File.WriteAllText(secret, "s3cret\n");
        var target = OutputTestKit.Target($"webhook+https://example.com/hook?a=1&secret=file:{secret}");
        Assert.Equal(Encoding.UTF8.GetBytes("s3cret"), target.Secret);
        Assert.Equal("?a=1", target.Endpoint!.Query);
    }

    [Theory]
    [InlineData("slack+ftp://h/x")]
    [InlineData("slack+")]
    [InlineData("gopher+https://h/x")]
    [InlineData("https://hooks.slack.com/x")]
    [InlineData("pagerduty:")]
    [InlineData("irc://host")]
    [InlineData("pagerduty+https://events.pagerduty.com/v2/enqueue")]
    public void MalformedTargetsAreRefused(string text) =>
        Assert.False(OutputTargetParser.TryParse(text, _ => null, out _, out _));

    [Fact]
    public void APlusInATwilioNumberStaysAPlusAndOtherParametersStayAsWritten()
    {
        var target = OutputTestKit.Target("twilio+https://AC1:t@api.twilio.com/x/Messages.json?from=+15017122661&to=%2B15558675310&keep=a%20b+c");
        Assert.Equal(("+15017122661", "+15558675310"), (target.From, target.To));
        Assert.Equal("?keep=a%20b+c", target.Endpoint!.Query);
    }

    [Fact]
    public void AnEndpointCanBeKeptInAFile()
    {
        using var dir = new TempDirectory();
        var file = dir.Combine("teams.url");
        File.WriteAllText(file, "https://prod.example.logic.azure.com/workflows/1/invoke?sig=SECRET\n");
        var target = OutputTestKit.Target($"teams+file:{file}");
        Assert.Equal(OutputKind.Teams, target.Kind);
        Assert.Equal("?sig=SECRET", target.Endpoint!.Query);
        Assert.DoesNotContain("SECRET", target.Display, StringComparison.Ordinal);
        Assert.False(OutputTargetParser.TryParse("slack+file:/nonexistent/slack.url", _ => null, out _, out var error));
        Assert.Contains("/nonexistent/slack.url", error, StringComparison.Ordinal);
    }
}
