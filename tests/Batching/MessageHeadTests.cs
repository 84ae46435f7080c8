using System.Text;
using Failmail.Batching;
using Failmail.Maildir;
using MimeKit;

namespace Failmail.Tests.Batching;

// The header-only path must give exactly what the full MimeKit parse gives: every case here is
// checked against MimeMessage.Load of the same bytes.
public class MessageHeadTests
{
    private static readonly Envelope Envelope = new("app@example.com", ["ops@example.com"], DateTimeOffset.UnixEpoch, "127.0.0.1");

    // Keys looked up in every case, in several spellings (DotLiquid's Hash ignores case).
    private static readonly string[] Keys =
    [
        "subject", "Subject", "SUBJECT", "x-failmail-split", "X-Failmail-Split", "from", "to", "date",
        "x-multi", "X-MULTI", "content-type", "Content-Type", "content-transfer-encoding", "x-failmail-digest",
        "x-empty", "x-8bit", "received", "missing",
    ];

    public static TheoryData<string> Plain => new()
    {
        "Subject: disk full\r\n\r\nbody\r\n",
        "From: app@example.com\r\nTo: ops@example.com\r\nDate: Tue, 1 Jul 2014 12:00:00 +0000\r\nSubject: bench alert\r\n\r\nLa La La\r\n",
        "Subject: a long\r\n subject folded\r\n\tover three lines\r\nX-Failmail-Split: db\r\n\r\nbody",
        "Subject:   spaced   out   \r\n\r\nb",
        "Subject:no-space\r\n\r\nb",
        "Subject: =?utf-8?q?caf=C3=A9?= =?utf-8?b?4pyT?=\r\n\r\nb",
        "Subject: =?iso-8859-1?q?caf=E9?=\r\n folded =?utf-8?q?enc=C3=B6ded?=\r\n\r\nb",
        "Subject: =?utf-8?q?broken\r\n\r\nb",
        "Subject: x\r\nX-Multi: first\r\nx-multi: second\r\nX-MULTI: third\r\n\r\nb",
        "X-Multi: first\r\nSubject: one\r\nSubject: two\r\n\r\nb",
        "subject: lower-case field\r\n\r\nb",
        "SUBJECT: upper-case field\r\n\r\nb",
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\nSubject: with content headers\r\n\r\nb",
        "Subject: caf\u00e9 in raw UTF-8\r\nX-8bit: \u00fcber \u2713\r\n\r\nb",
        "Subject: x\r\nX-Empty:\r\nX-Empty: later\r\n\r\nb",
        "Subject: x\r\nX-Empty:   \r\n\r\nb",
        "Received: from a\r\n\tby b; Tue, 1 Jul 2014 12:00:00 +0000\r\nReceived: from c\r\nSubject: hops\r\n\r\nb",
        "X-Failmail-Split: team-a\r\nSubject: =?UTF-8?B?w6TDtsO8?=\r\n\r\n",
        "Subject: tab\tinside and trailing tab\t\r\n\r\nb",
        "Subject: ends with fold  \r\n  more\r\n\r\nb",
        "X-Failmail-Digest: 1\r\nSubject: [failmail] 2 instances\r\n\r\nb",
    };

    [Theory]
    [MemberData(nameof(Plain))]
    public void HeaderOnlyPathMatchesTheFullParse(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var mime = MimeMessage.Load(new MemoryStream(bytes));
        var full = MessageVariables.Build(mime, Envelope, includeBody: false);
        var fullHeaders = (DotLiquid.Hash)full["headers"];

        Assert.True(MessageHead.TryParse(bytes, new List<HeaderSpan>(), out var head));
        foreach (var key in Keys)
        {
            var expected = fullHeaders.TryGetValue(key, out var value) ? (string)value : null;
            Assert.Equal(expected, head.Get(key));
            Assert.Equal(mime.Headers.Contains(key), head.Contains(key));
        }
        Assert.Equal(MessageText.Subject(mime), head.Subject());
        Assert.Equal(DigestBuilder.IsDigest(mime), head.Contains(DigestBuilder.MarkerHeader));

        var fromHead = MessageVariables.Build(head.Values(), Envelope, "");
        var headHeaders = (DotLiquid.Hash)fromHead["headers"];
        Assert.Equal(fullHeaders.Keys.Order(StringComparer.Ordinal), headHeaders.Keys.Order(StringComparer.Ordinal));
        foreach (var key in fullHeaders.Keys)
        {
            Assert.Equal(fullHeaders[key], headHeaders[key]);
        }
        foreach (var name in new[] { "subject", "from", "to", "date", "body" })
        {
            Assert.Equal(full[name], fromHead[name]);
        }
    }

    [Theory]
    [MemberData(nameof(Plain))]
    public void DefaultExpressionsGiveTheSameKeysBothWays(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var full = MessageVariables.Build(MimeMessage.Load(new MemoryStream(bytes)), Envelope, includeBody: false);
        Assert.True(MessageHead.TryParse(bytes, new List<HeaderSpan>(), out var head));
        foreach (var source in new[] { new FailmailOptions().BatchExpr, new FailmailOptions().GroupExpr, "{{ headers[\"X-Multi\"] }}" })
        {
            var expression = MessageExpression.Create("--group-expr", source);
            Assert.NotNull(expression.HeaderName);
            Assert.Equal(expression.Evaluate(full), head.Get(expression.HeaderName) ?? "");
        }
    }

    // Shapes on which MimeKit's parser makes choices of its own: the full parse handles them.
    [Theory]
    [InlineData("")]
    [InlineData("\r\nbody only")]
    [InlineData("\uFEFFSubject: bom\r\n\r\nb")]
    [InlineData("From app@example.com Tue Jul  1 12:00:00 2014\r\nSubject: mbox\r\n\r\nb")]
    [InlineData("Subject: a\r\nnot a header\r\n\r\nb")]
    [InlineData("Subject : space before colon\r\n\r\nb")]
    [InlineData(": no name\r\n\r\nb")]
    [InlineData(" Subject: starts folded\r\n\r\nb")]
    [InlineData("Subject: bare LF\n\nb")]
    [InlineData("Subject: bare CR\r\rb")]
    [InlineData("Subject: a\r\n \r\nX: whitespace-only fold\r\n\r\nb")]
    [InlineData("Subject: NUL \0 inside\r\n\r\nb")]
    [InlineData("Subject: no body separator\r\n")]
    [InlineData("Subject: no line end")]
    [InlineData("Subj\u00e9ct: 8-bit name\r\n\r\nb")]
    public void UnusualHeaderBlocksAreLeftToMimeKit(string text)
    {
        Assert.False(MessageHead.TryParse(Encoding.UTF8.GetBytes(text), new List<HeaderSpan>(), out _));
    }

    [Fact]
    public void SpansCoverNameAndRawValueAsMimeKitKeepsThem()
    {
        var bytes = Encoding.ASCII.GetBytes("Subject: a\r\n b\r\nX-Y:z\r\n\r\nbody");
        var spans = new List<HeaderSpan>();
        Assert.True(HeaderBlock.TryParse(bytes, spans, out var bodyStart));
        Assert.Equal("body", Encoding.ASCII.GetString(bytes, bodyStart, bytes.Length - bodyStart));
        var mime = MimeMessage.Load(new MemoryStream(bytes));
        Assert.Equal(mime.Headers.Count, spans.Count);
        for (var i = 0; i < spans.Count; i++)
        {
            Assert.Equal(mime.Headers[i].Field, Encoding.ASCII.GetString(bytes, spans[i].FieldStart, spans[i].FieldLength));
            Assert.Equal(mime.Headers[i].RawValue, bytes.AsSpan(spans[i].ValueStart, spans[i].ValueLength).ToArray());
        }
    }

    [Fact]
    public void LongFoldedHeaderValuesDecodeAsTheFullParse()
    {
        var words = string.Join("\r\n ", Enumerable.Range(0, 200).Select(i => $"word{i} =?utf-8?q?=C3=A9{i}?="));
        var bytes = Encoding.ASCII.GetBytes($"Subject: {words}\r\n\r\nb");
        var mime = MimeMessage.Load(new MemoryStream(bytes));
        Assert.True(MessageHead.TryParse(bytes, new List<HeaderSpan>(), out var head));
        Assert.Equal(MessageVariables.HeaderValue(mime.Headers[0]), head.Get("subject"));
        // ~3 KB decoded: both paths cut it the same way (HeaderText), at the same place.
        Assert.Equal(MessageText.Subject(mime), head.Subject());
        Assert.Equal(HeaderText.Cut(mime.Subject ?? ""), head.Subject());
        Assert.EndsWith(HeaderText.CutMarker, head.Subject(), StringComparison.Ordinal);
    }

    // Plain one-line values skip unfolding and RFC 2047 decoding: for them both must be no-ops.
    [Fact]
    public void PlainValuesNeedNoDecoding()
    {
        var random = new Random(7);
        const string Alphabet = " \t=?abcXYZ019\"()<>@,;:\\/[]_.-~'";
        for (var round = 0; round < 2000; round++)
        {
            var value = new string(Enumerable.Range(0, random.Next(0, 40)).Select(_ => Alphabet[random.Next(Alphabet.Length)]).ToArray());
            var bytes = Encoding.ASCII.GetBytes($"X-Test:{value}\r\n\r\nb");
            var mime = MimeMessage.Load(new MemoryStream(bytes));
            var header = Assert.Single(mime.Headers);
            var raw = header.RawValue;
            var decoded = MimeKit.Utils.Rfc2047.DecodeText(ParserOptions.Default, raw.AsSpan(0, raw.Length - 2).ToArray()).Trim();
            if (MessageVariables.TryPlainValue(raw, out var plain))
            {
                Assert.DoesNotContain("=?", value, StringComparison.Ordinal);
                Assert.Equal(decoded, plain);
                Assert.Equal(header.Value, plain);
            }
            Assert.Equal(decoded, MessageVariables.HeaderValue(raw));
        }
    }
}
