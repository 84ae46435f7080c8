using System.Text;
using Failmail.Batching;
using MimeKit;

namespace Failmail.Tests.Batching;

// The --digest-json part: written by a spoke's DigestBuilder, read back by a hub, and read
// as hostile input (it arrives over SMTP like any message).
public class DigestDocumentTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 10, 0, 0, TimeSpan.Zero);
    private static readonly FailmailOptions Options = new() { From = "failmail@spoke.test", DigestJson = true };

    private static DueBatch Batch(int groups = 2)
    {
        var due = Enumerable.Range(0, groups).Select(i => new DueGroup($"disk <num>% full {i}", $"disk 9{i}% full", 10 + i, T0.AddSeconds(i), T0.AddSeconds(60 + i), $"m{i}")
        {
            Hosts = [new HostCount("web-1", 6 + i), new HostCount("web-2", 4)],
            Examples = ["91%"],
        }).ToList();
        return new DueBatch("db", "ops@example.com", due, due.Select(g => g.LastMessageId).ToList(), T0, T0.AddSeconds(90));
    }

    [Fact]
    public void ASpokesDigestCarriesItsGroupsAndAHubReadsThemBack()
    {
        var digest = new DigestBuilder(Options, null, TimeZoneInfo.Utc).BuildWithBodies(Batch(), _ => "body\n", T0);
        var multipart = Assert.IsType<Multipart>(digest.Message.Body);
        Assert.Contains("Total messages: 21", Assert.IsType<TextPart>(multipart[0]).Text, StringComparison.Ordinal);
        var reparsed = MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(digest.Message.ToString())));
        var document = DigestDocument.Find(reparsed, out var problem);
        Assert.Equal("", problem);
        Assert.NotNull(document);
        Assert.Equal(("db", "ops@example.com", 21L), (document.BatchKey, document.Recipient, document.Total));
        Assert.Equal(["disk <num>% full 0", "disk <num>% full 1"], document.Groups.Select(g => g.Key));
        var second = document.Groups[1];
        Assert.Equal((11L, T0.AddSeconds(1), T0.AddSeconds(61)), (second.Count, second.First, second.Last));
        Assert.Equal([new DigestDocumentHost("web-1", 7), new DigestDocumentHost("web-2", 4)], second.Hosts);
        Assert.Equal(["91%"], second.Examples);
    }

    [Fact]
    public void WithoutTheFlagADigestIsPlainText()
    {
        var digest = new DigestBuilder(Options with { DigestJson = false }, null, TimeZoneInfo.Utc).BuildWithBodies(Batch(), _ => "body\n", T0);
        Assert.IsType<TextPart>(digest.Message.Body);
        Assert.Null(DigestDocument.Find(digest.Message, out _));
    }

    [Fact]
    public void GroupsPastTheLimitAreSummedIntoOneSoTheTotalStaysExact()
    {
        var document = DigestDocument.From(Batch(DigestDocument.MaxGroups + 50));
        Assert.Equal(DigestDocument.MaxGroups + 1, document.Groups.Count);
        Assert.Equal(DigestDocument.OtherKey, document.Groups[^1].Key);
        Assert.Equal(document.Total, document.Groups.Sum(g => g.Count));
    }

    [Fact]
    public void ADigestTooSmallToShrinkKeepsItsTextAndDropsItsJson()
    {
        var digest = new DigestBuilder(Options, null, TimeZoneInfo.Utc).BuildWithBodies(Batch(40), _ => new string('x', 3000) + "\n", T0);
        Assert.IsType<Multipart>(digest.Message.Body);
        var size = DigestBuilder.SerialisedSize(digest.Message);
        Assert.True(DigestShrinker.TryShrink(digest.Message, size / 2, 200, out var smaller));
        Assert.IsType<TextPart>(smaller.Body);
        Assert.True(DigestBuilder.SerialisedSize(smaller) <= size / 2);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"version\":2,\"groups\":[{\"key\":\"a\",\"count\":1}]}")]
    [InlineData("{\"version\":1,\"groups\":[]}")]
    [InlineData("{\"version\":1,\"groups\":[{\"key\":\"a\",\"count\":0}]}")]
    [InlineData("{\"version\":1,\"groups\":[{\"key\":\"a\",\"count\":-5}]}")]
    [InlineData("{\"version\":1,\"groups\":[{\"count\":3}]}")]
    [InlineData("{\"version\":1,\"groups\":[{\"key\":\"a\",\"count\":1,\"first\":\"2026-01-02T00:00:00Z\",\"last\":\"2026-01-01T00:00:00Z\"}]}")]
    [InlineData("{\"version\":1,\"groups\":[null]}")]
    [InlineData("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]")]
    public void AHostilePartIsRefusedWithAReason(string json)
    {
        var message = WithPart(json);
        Assert.Null(DigestDocument.Find(message, out var problem));
        Assert.NotEmpty(problem);
    }

    [Fact]
    public void HostileValuesAreCutAndBounded()
    {
        var hosts = string.Join(',', Enumerable.Range(0, 500).Select(i => $"{{\"host\":\"h{i}\",\"count\":1}}"));
        var json = $"{{\"version\":1,\"batchKey\":\"{new string('k', 5000)}\",\"groups\":[{{\"key\":\"a\",\"subject\":\"{new string('s', 5000)}\",\"count\":3,\"otherHostMessages\":99,\"hosts\":[{hosts},{{\"host\":\"big\",\"count\":50}}],\"examples\":[\"\",\"x\"]}}]}}";
        var document = DigestDocument.Find(WithPart(json), out _);
        Assert.NotNull(document);
        var group = Assert.Single(document.Groups);
        Assert.True(Encoding.UTF8.GetByteCount(group.Subject) <= HeaderText.MaxBytes);
        Assert.True(Encoding.UTF8.GetByteCount(document.BatchKey) <= HeaderText.MaxBytes);
        Assert.True(group.Hosts.Count <= 64);
        Assert.DoesNotContain(group.Hosts, h => h.Host == "big");
        Assert.Equal(3, group.OtherHostMessages);
        Assert.Equal(["x"], group.Examples);
    }

    private static MimeMessage WithPart(string json)
    {
        var message = new MimeMessage();
        message.Headers.Add(DigestBuilder.MarkerHeader, "1");
        message.Body = new Multipart("mixed") { new TextPart("plain") { Text = "digest" }, DigestDocument.Part(Encoding.UTF8.GetBytes(json)) };
        return message;
    }
}
