using System.Text;
using Failmail.Batching;
using Failmail.Maildir;
using MimeKit;

namespace Failmail.Tests.Batching;

public class HeaderTextTests
{
    private static int Utf8(string s) => Encoding.UTF8.GetByteCount(s);

    [Theory]
    [InlineData("")]
    [InlineData("disk full")]
    public void ShortValuesAreKept(string value) => Assert.Same(value, HeaderText.Cut(value));

    [Fact]
    public void AValueOfExactlyTheLimitIsKept()
    {
        var value = new string('a', HeaderText.MaxBytes);
        Assert.Same(value, HeaderText.Cut(value));
    }

    [Fact]
    public void ALongValueIsCutToTheLimitWithTheMarker()
    {
        var cut = HeaderText.Cut(new string('a', 1_000_000));
        Assert.EndsWith(HeaderText.CutMarker, cut, StringComparison.Ordinal);
        Assert.Equal(HeaderText.MaxBytes, Utf8(cut));
        Assert.StartsWith("aaaa", cut, StringComparison.Ordinal);
    }

    // Every alignment of 2-, 3- and 4-byte sequences against the limit: never half a
    // character, never a lone surrogate, never over the limit.
    [Theory]
    [InlineData("é")]
    [InlineData("€")]
    [InlineData("😀")]
    [InlineData("a😀")]
    [InlineData("ab€")]
    public void ACutNeverSplitsACharacter(string unit)
    {
        for (var pad = 0; pad < 4; pad++)
        {
            var value = new string('x', pad) + string.Concat(Enumerable.Repeat(unit, 2000));
            var cut = HeaderText.Cut(value);
            Assert.True(Utf8(cut) <= HeaderText.MaxBytes, $"pad {pad}: {Utf8(cut)} bytes");
            Assert.True(Utf8(cut) > HeaderText.MaxBytes - 4 - Utf8(HeaderText.CutMarker), $"pad {pad}: only {Utf8(cut)} bytes");
            var kept = cut[..^HeaderText.CutMarker.Length];
            Assert.StartsWith(kept, value, StringComparison.Ordinal);
            Assert.False(char.IsHighSurrogate(kept[^1]), $"pad {pad}: ends in half a pair");
            // Round-trips through UTF-8 unchanged: no broken sequence.
            Assert.Equal(cut, Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(cut)));
        }
    }

    [Fact]
    public void AValueCutBeforeDecodingIsMarkedEvenWhenShort() =>
        Assert.Equal("short" + HeaderText.CutMarker, HeaderText.Cut("short", wasCut: true));

    [Fact]
    public void RawValuesAreCutOutsideUtf8Sequences()
    {
        // "é" is C3 A9: put the cut point on the A9.
        var raw = new byte[HeaderText.MaxRawBytes + 10];
        raw.AsSpan().Fill((byte)'a');
        raw[HeaderText.MaxRawBytes - 1] = 0xC3;
        raw[HeaderText.MaxRawBytes] = 0xA9;
        var cut = HeaderText.CutRaw(raw, out var wasCut);
        Assert.True(wasCut);
        Assert.Equal(HeaderText.MaxRawBytes - 1, cut.Length);
        Assert.False(HeaderText.CutRaw(raw.AsSpan(0, 100), out wasCut).IsEmpty);
        Assert.False(wasCut);
    }

    private static byte[] MessageWithSubject(string subject) =>
        Encoding.UTF8.GetBytes($"From: app@example.com\r\nSubject: {subject}\r\n\r\nbody\r\n");

    [Fact]
    public void AHugeSubjectIsCutInTheKeysAndTheSubjectOnBothPaths()
    {
        var huge = "disk full " + new string('x', 1_000_000);
        var bytes = MessageWithSubject(huge);
        var message = new ReceivedMessage("1", new Envelope("app@example.com", ["ops@example.com"], DateTimeOffset.UnixEpoch, ""), bytes.Length);
        var keys = new MessageKeyEvaluator(new FailmailOptions(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        Assert.True(keys.TryFromHead(bytes, message, out var head));
        var mime = MimeMessage.Load(new MemoryStream(bytes));
        var full = keys.FromMime(mime, message);
        foreach (var k in new[] { head, full })
        {
            Assert.Equal(HeaderText.MaxBytes, Utf8(k.GroupKey));
            Assert.Equal(HeaderText.MaxBytes, Utf8(k.Subject));
            Assert.StartsWith("disk full xxx", k.Subject, StringComparison.Ordinal);
            Assert.EndsWith(HeaderText.CutMarker, k.Subject, StringComparison.Ordinal);
        }
        Assert.Equal(full, head);
    }

    [Fact]
    public void AHugeEncodedSubjectIsCutAfterDecoding()
    {
        // 200,000 encoded-words of "é" (=C3=A9), folded: far over the raw limit.
        var words = string.Join("\r\n ", Enumerable.Repeat("=?utf-8?q?=C3=A9=C3=A9?=", 200_000));
        var bytes = MessageWithSubject(words);
        Assert.True(MessageHead.TryParse(bytes, new List<HeaderSpan>(), out var head));
        var subject = head.Subject();
        Assert.True(Utf8(subject) <= HeaderText.MaxBytes);
        Assert.EndsWith(HeaderText.CutMarker, subject, StringComparison.Ordinal);
        Assert.StartsWith("éééé", subject, StringComparison.Ordinal);
        Assert.DoesNotContain("=?", subject, StringComparison.Ordinal);
        Assert.Equal(subject[..^1].Length, subject[..^1].Count(c => c == 'é'));
    }

    [Fact]
    public void OtherHeaderValuesAndNamesAreCutForExpressions()
    {
        var name = "X-" + new string('n', 5000);
        var bytes = Encoding.ASCII.GetBytes($"Subject: s\r\nX-Long: {new string('v', 50_000)}\r\n{name}: v\r\n\r\nbody\r\n");
        Assert.True(MessageHead.TryParse(bytes, new List<HeaderSpan>(), out var head));
        Assert.Equal(HeaderText.MaxBytes, Utf8(head.Get("X-Long")!));
        Assert.All(head.Values(), pair =>
        {
            Assert.True(Utf8(pair.Key) <= HeaderText.MaxBytes);
            Assert.True(Utf8(pair.Value) <= HeaderText.MaxBytes);
        });
    }

    [Fact]
    public void AKeyRenderedFromTheBodyIsCut()
    {
        var bytes = Encoding.ASCII.GetBytes($"Subject: s\r\n\r\n{new string('b', 20_000)}\r\n");
        var options = new FailmailOptions { GroupExpr = "{{ body }}" };
        var keys = new MessageKeyEvaluator(options, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var message = new ReceivedMessage("1", new Envelope("a@example.com", ["ops@example.com"], DateTimeOffset.UnixEpoch, ""), bytes.Length);
        var result = keys.FromMime(MimeMessage.Load(new MemoryStream(bytes)), message);
        Assert.Equal(HeaderText.MaxBytes, Utf8(result.GroupKey));
    }
}
