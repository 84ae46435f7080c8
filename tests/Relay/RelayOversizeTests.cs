using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Failmail.Batching;
using Failmail.Maildir;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using static Failmail.Tests.Relay.RelayTestKit;

namespace Failmail.Tests.Relay;

// Issue 13: a digest over the relay's SIZE, or refused with 552 for its size, is re-rendered
// smaller from its queued text and sent; nothing reaches the fail-dir.
public class RelayOversizeTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static Digest BigDigest(int groups, int bodyBytes)
    {
        var now = Start;
        var due = new DueBatch("", "ops@example.com",
            Enumerable.Range(0, groups).Select(i => new DueGroup($"g{i}", $"alert {i}", groups - i, now, now, $"m{i}")).ToList(),
            Enumerable.Range(0, groups * (groups + 1) / 2).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList(), now, now);
        var builder = new DigestBuilder(new FailmailOptions { From = "failmail@test.example" }, null, TimeZoneInfo.Utc, new DigestLimits(2 * 1024 * 1024, 1000));
        return builder.BuildWithBodies(due, id => new string('x', bodyBytes) + "\n", now);
    }

    private static (long Listed, long Summed) Counts(string text)
    {
        var listed = Regex.Matches(text, @"^- Message group \d+ of \d+: (\d+) instances?", RegexOptions.Multiline).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        var more = Regex.Match(text, @"^and \d+ more groups? \((\d+) messages?\)", RegexOptions.Multiline);
        return (listed, more.Success ? long.Parse(more.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
    }

    [Theory]
    [InlineData(true)] // the relay says SIZE: re-rendered before sending
    [InlineData(false)] // the relay says nothing, then 552 5.3.4: halved until it passes
    public async Task AnOversizeDigestIsReRenderedSmallerAndSent(bool advertise)
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer();
        server.MaxSize = 100_000;
        server.AdvertiseSize = advertise;
        var options = Options(dir, server.Address) with { MaxDigestGroups = 1000 };
        var time = new FakeTimeProvider(Start);
        await using var relay = NewRelay(options, new MemoryMessageStore(), time);
        var digest = BigDigest(300, 3000);
        var original = digest.Message.TextBody!.ReplaceLineEndings("\n");
        Assert.True(DigestBuilder.SerialisedSize(digest.Message) > 500_000);
        await relay.SendAsync(digest, CancellationToken.None).AsTask().WaitAsync(Patience);
        await using var running = Running.Start(relay);
        var mail = await server.ReceiveAsync();
        Assert.True(mail.Data.Length <= 100_000, $"{mail.Data.Length} bytes");
        await UntilAsync(relay, () => relay.DigestsSent == 1);
        Assert.Equal(0, relay.FailDirWrites);
        using var stream = new MemoryStream(mail.Data);
        var received = MimeMessage.Load(stream).TextBody!.ReplaceLineEndings("\n");
        Assert.Contains("Total messages: 45150\nUnique messages: 300\n", received, StringComparison.Ordinal);
        var (listed, summed) = Counts(received);
        Assert.Equal(45150, listed + summed);
        Assert.Equal(45150, Counts(original).Listed);
    }

    [Fact]
    public void ShrinkingKeepsEveryCountAndStaysUnderTheBound()
    {
        var digest = BigDigest(1000, 500);
        for (var bound = 400_000L; bound >= 8192; bound /= 3)
        {
            Assert.True(DigestShrinker.TryShrink(digest.Message, bound, 200, out var smaller));
            Assert.True(DigestBuilder.SerialisedSize(smaller) <= bound);
            var (listed, summed) = Counts(smaller.TextBody!.ReplaceLineEndings("\n"));
            Assert.Equal(500_500, listed + summed);
        }
    }

    [Fact]
    public void OnlyDigestsAreShrunkAndNeverBelowTheFloor()
    {
        var digest = BigDigest(10, 100);
        Assert.False(DigestShrinker.TryShrink(digest.Message, DigestLimits.MinBytes - 1, 200, out _));
        var plain = new MimeMessage { Body = new TextPart("plain") { Text = new string('y', 50_000) } };
        Assert.False(DigestShrinker.TryShrink(plain, 10_000, 200, out _));
        var template = new MimeMessage { Body = new TextPart("plain") { Text = new string('y', 50_000) } };
        template.Headers.Add(DigestBuilder.MarkerHeader, "1");
        Assert.True(DigestShrinker.TryShrink(template, 10_000, 200, out var cut));
        Assert.Contains("[body cut: ", cut.TextBody, StringComparison.Ordinal);
        Assert.True(Encoding.UTF8.GetByteCount(cut.TextBody!) < 10_000);
    }
}
