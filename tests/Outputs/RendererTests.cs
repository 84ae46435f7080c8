using System.Text;
using System.Text.Json;
using System.Web;
using Failmail.Outputs;

namespace Failmail.Tests.Outputs;

// Each renderer against its vendor's documented shape (tests/fixtures/outputs, from the API
// docs) and limits, with small digests and with storms of long, hostile subjects.
public class RendererTests
{
    private static readonly string LongSubject = string.Concat(Enumerable.Repeat("😀 disk <full> & *bold* @everyone ", 200)) + "{0}";

    private static JsonElement Json(OutputPayload payload)
    {
        Assert.Equal(OutputPayload.Json, payload.ContentType);
        using var doc = JsonDocument.Parse(payload.Body);
        return doc.RootElement.Clone();
    }

    [Fact]
    public void SlackHasTheDocumentedShapeAndATextFallback()
    {
        var json = Json(SlackRenderer.Render(OutputTestKit.Entry()));
        Assert.Empty(OutputTestKit.ShapeDifferences(OutputTestKit.Fixture("slack-incoming-webhook.json"), json));
        Assert.StartsWith("6 messages in 3 groups: disk full on db0", json.GetProperty("text").GetString(), StringComparison.Ordinal);
        var blocks = json.GetProperty("blocks").EnumerateArray().ToList();
        Assert.Equal("header", blocks[0].GetProperty("type").GetString());
        Assert.Contains(blocks, b => b.GetProperty("type").GetString() == "section" && b.GetProperty("text").GetProperty("text").GetString()!.Contains("2× disk full on db2", StringComparison.Ordinal));
    }

    [Fact]
    public void ASlackStormStaysWithinBlockAndSectionLimits()
    {
        var entry = OutputTestKit.Entry(OutputTestKit.Summary(groups: 200, subject: LongSubject) with { OmittedGroups = 800, OmittedMessages = 1600 });
        var json = Json(SlackRenderer.Render(entry));
        var blocks = json.GetProperty("blocks").EnumerateArray().ToList();
        Assert.True(blocks.Count <= SlackRenderer.MaxBlocks, $"{blocks.Count} blocks");
        foreach (var block in blocks.Where(b => b.GetProperty("type").GetString() == "section"))
        {
            Assert.True(block.GetProperty("text").GetProperty("text").GetString()!.Length <= SlackRenderer.MaxSectionText);
        }
        Assert.True(blocks[0].GetProperty("text").GetProperty("text").GetString()!.Length <= SlackRenderer.MaxHeaderText);
        var last = blocks[^1].GetProperty("text").GetProperty("text").GetString()!;
        Assert.Matches(@"and \d+ more groups \(\d+ messages\)", last);
        // mrkdwn control characters are escaped.
        Assert.DoesNotContain("<full>", json.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.All(blocks.Skip(1), b => Assert.DoesNotContain("<full>", b.GetRawText(), StringComparison.Ordinal));
    }

    [Fact]
    public void DiscordKeepsEveryLimitAndMentionsNobody()
    {
        foreach (var summary in new[] { OutputTestKit.Summary(), OutputTestKit.Summary(groups: 200, subject: LongSubject) with { Subject = LongSubject } })
        {
            var json = Json(DiscordRenderer.Render(OutputTestKit.Entry(summary)));
            Assert.Empty(OutputTestKit.ShapeDifferences(OutputTestKit.Fixture("discord-execute-webhook.json"), json));
            Assert.True(json.GetProperty("content").GetString()!.Length <= DiscordRenderer.MaxContent);
            var embed = json.GetProperty("embeds")[0];
            var title = embed.GetProperty("title").GetString()!;
            var description = embed.GetProperty("description").GetString()!;
            var footer = embed.GetProperty("footer").GetProperty("text").GetString()!;
            Assert.True(title.Length <= DiscordRenderer.MaxTitle);
            Assert.True(description.Length <= DiscordRenderer.MaxDescription);
            Assert.True(title.Length + description.Length + footer.Length <= DiscordRenderer.MaxEmbedTotal);
            Assert.Equal(0, json.GetProperty("allowed_mentions").GetProperty("parse").GetArrayLength());
        }
    }

    [Fact]
    public void TeamsIsAWorkflowsMessageWithAnAdaptiveCard()
    {
        var json = Json(TeamsRenderer.Render(OutputTestKit.Entry(OutputTestKit.Summary(groups: 100))));
        Assert.Empty(OutputTestKit.ShapeDifferences(OutputTestKit.Fixture("teams-workflows-card.json"), json));
        var card = json.GetProperty("attachments")[0].GetProperty("content");
        Assert.Equal("AdaptiveCard", card.GetProperty("type").GetString());
        var facts = card.GetProperty("body").EnumerateArray().Single(b => b.GetProperty("type").GetString() == "FactSet").GetProperty("facts");
        Assert.Equal(TeamsRenderer.MaxGroups, facts.GetArrayLength());
        Assert.Contains("and 70 more groups (140 messages)", card.GetProperty("body").EnumerateArray().Last().GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void PagerDutyIsATriggerWithAStableDedupKey()
    {
        var target = OutputTestKit.Target("pagerduty:KEY?severity=warning");
        var summary = OutputTestKit.Summary(groups: 120, batchKey: "db", subject: LongSubject);
        var json = Json(PagerDutyRenderer.Render(target, OutputTestKit.Entry(summary), "hub.example.com"));
        Assert.Empty(OutputTestKit.ShapeDifferences(OutputTestKit.Fixture("pagerduty-trigger.json"), json));
        Assert.Equal("KEY", json.GetProperty("routing_key").GetString());
        Assert.Equal("trigger", json.GetProperty("event_action").GetString());
        var payload = json.GetProperty("payload");
        Assert.True(payload.GetProperty("summary").GetString()!.Length <= PagerDutyRenderer.MaxSummary);
        Assert.Equal("hub.example.com", payload.GetProperty("source").GetString());
        Assert.Equal("warning", payload.GetProperty("severity").GetString());
        Assert.Equal(120, payload.GetProperty("custom_details").GetProperty("groups").GetInt32());
        Assert.Equal(PagerDutyRenderer.MaxDetailGroups, payload.GetProperty("custom_details").GetProperty("top_groups").GetArrayLength());

        var key = json.GetProperty("dedup_key").GetString()!;
        Assert.True(key.Length <= 255);
        // Same batch and recipient (any case): same incident; another batch: another.
        Assert.Equal(key, PagerDutyRenderer.DedupKey("db", "OPS@example.com"));
        Assert.NotEqual(key, PagerDutyRenderer.DedupKey("web", "ops@example.com"));
        // A message's X-Failmail-Severity wins over ?severity=.
        var critical = Json(PagerDutyRenderer.Render(target, OutputTestKit.Entry(summary with { Severity = "critical" }), "h"));
        Assert.Equal("critical", critical.GetProperty("payload").GetProperty("severity").GetString());
        var plain = Json(PagerDutyRenderer.Render(OutputTestKit.Target("pagerduty:K"), OutputTestKit.Entry(), "h"));
        Assert.Equal("error", plain.GetProperty("payload").GetProperty("severity").GetString());
    }

    [Fact]
    public void TwilioIsFormEncodedWithBasicAuthAndAShortBody()
    {
        var target = OutputTestKit.Target("twilio+http://AC1:tok@127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json?from=%2B15017122661&to=%2B15558675310");
        var payload = TwilioRenderer.Render(target, OutputTestKit.Entry(OutputTestKit.Summary(groups: 50, subject: LongSubject)));
        Assert.Equal("application/x-www-form-urlencoded", payload.ContentType);
        var form = HttpUtility.ParseQueryString(Encoding.ASCII.GetString(payload.Body));
        var fixture = HttpUtility.ParseQueryString(File.ReadAllText(Path.Combine(EndToEnd.TestPaths.RepoRoot, "tests", "fixtures", "outputs", "twilio-create-message.form")).Trim());
        Assert.All(fixture.AllKeys, k => Assert.False(string.IsNullOrEmpty(form[k]), k));
        Assert.Equal("+15558675310", form["To"]);
        Assert.Equal("+15017122661", form["From"]);
        Assert.True(form["Body"]!.Length <= TwilioRenderer.MaxBody);
        Assert.StartsWith("100 messages in 50 groups", form["Body"], StringComparison.Ordinal);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("AC1:tok")), payload.Headers.Single(h => h.Key == "Authorization").Value);
    }

    [Fact]
    public void WebhookIsVersionedAndSignedWithHmacSha256()
    {
        var target = OutputTestKit.Target("webhook+http://127.0.0.1:9/x") with { Secret = Encoding.UTF8.GetBytes("k") };
        var entry = OutputTestKit.Entry(OutputTestKit.Summary(batchKey: "db") with { Groups = [.. OutputTestKit.Summary().Groups.Select(g => g with { Hosts = ["web1"] })] });
        var payload = WebhookRenderer.Render(target, entry, OutputTestKit.T0);
        var json = Json(payload);
        Assert.Equal(1, json.GetProperty("version").GetInt32());
        Assert.Equal("ops@example.com", json.GetProperty("recipient").GetString());
        Assert.Equal("db", json.GetProperty("batch_key").GetString());
        Assert.Equal(3, json.GetProperty("groups").GetArrayLength());
        Assert.Equal(2, json.GetProperty("groups")[0].GetProperty("count").GetInt32());
        Assert.Equal("web1", json.GetProperty("hosts")[0].GetString());
        Assert.Equal("2026-12-01T12:00:00.000Z", json.GetProperty("first_seen").GetString());
        Assert.Contains("2× disk full on db1", json.GetProperty("text").GetString(), StringComparison.Ordinal);
        var expected = "sha256=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData("k"u8, payload.Body));
        Assert.Equal(expected, payload.Headers.Single(h => h.Key == WebhookRenderer.SignatureHeader).Value);
        Assert.Equal(entry.Id, payload.Headers.Single(h => h.Key == WebhookRenderer.DeliveryHeader).Value);
        Assert.DoesNotContain(WebhookRenderer.Render(target with { Secret = [] }, entry, OutputTestKit.T0).Headers, h => h.Key == WebhookRenderer.SignatureHeader);
    }

    [Fact]
    public void IrcLinesAreFewAndShortInBytes()
    {
        var lines = IrcRenderer.Render(OutputTestKit.Entry(OutputTestKit.Summary(groups: 10, subject: "é中😀\r\nPRIVMSG #x :{0}" + LongSubject)));
        Assert.Equal(IrcRenderer.MaxGroups + 2, lines.Count);
        Assert.All(lines, l => Assert.True(Encoding.UTF8.GetByteCount(l) <= IrcRenderer.MaxLineBytes));
        Assert.All(lines, l => Assert.DoesNotContain('\n', l));
        Assert.Equal("- and 7 more groups (14 messages)", lines[^1]);
    }

    [Fact]
    public void HostsAppearInTheHeadline()
    {
        var summary = OutputTestKit.Summary() with { Groups = [.. OutputTestKit.Summary().Groups.Select((g, i) => g with { Hosts = [$"db{i}"] })] };
        Assert.EndsWith("from db0, db1, db2", DigestText.Headline(summary), StringComparison.Ordinal);
    }
}
