using System.Text;
using Failmail.Sendmail;

namespace Failmail.Tests.Sendmail;

public sealed class SpoolEnvelopeReaderTests
{
    private static readonly SpoolLimits Limits = new(MaxMessageSize: 1000, MaxRecipients: 3, MaxEnvelopeLine: 80);

    // What the importer does: feed what has arrived, keep the unconsumed rest, add more.
    // step 0 feeds everything at once; otherwise step bytes at a time.
    private static (SpoolEnvelopeStatus Status, SpoolEnvelopeReader Reader) Run(byte[] file, int step)
    {
        var reader = new SpoolEnvelopeReader(Limits);
        var start = 0;
        var end = step == 0 ? file.Length : 0;
        while (true)
        {
            end = Math.Min(file.Length, Math.Max(end, start));
            var final = end == file.Length;
            var status = reader.Read(file.AsSpan(start, end - start), final, out var consumed);
            start += consumed;
            if (status != SpoolEnvelopeStatus.NeedMore)
            {
                return (status, reader);
            }
            Assert.False(final, "NeedMore at the end of the file");
            end += step == 0 ? file.Length : step;
        }
    }

    private static void AssertSameEverySegmentation(string text, SpoolEnvelopeStatus expected, string? reason = null)
    {
        var file = Encoding.UTF8.GetBytes(text);
        var (whole, wholeReader) = Run(file, 0);
        Assert.Equal(expected, whole);
        if (reason is not null)
        {
            Assert.Contains(reason, wholeReader.Reason, StringComparison.Ordinal);
        }
        foreach (var step in new[] { 1, 2, 3, 7, 19, 20, 21, 64 })
        {
            var (status, reader) = Run(file, step);
            Assert.Equal(whole, status);
            Assert.Equal(wholeReader.Reason, reader.Reason);
            Assert.Equal(wholeReader.Length, reader.Length);
            Assert.Equal(wholeReader.From, reader.From);
            Assert.Equal(wholeReader.Recipients, reader.Recipients);
        }
    }

    [Fact]
    public void AnEnvelopeAsSpoolFileWritesItEndsWhereTheMessageStarts()
    {
        const string Envelope = "X-Failmail-Envelope-From: <root@host1.example.com>\r\nX-Failmail-Envelope-To: <a@y.test>\r\nx-failmail-envelope-to:<b@y.test>  \n";
        AssertSameEverySegmentation(Envelope + "Subject: s\r\n\r\nbody\r\n", SpoolEnvelopeStatus.Complete);
        var (_, reader) = Run(Encoding.UTF8.GetBytes(Envelope + "Subject: s\r\n"), 0);
        Assert.Equal("root@host1.example.com", reader.From);
        Assert.Equal(["a@y.test", "b@y.test"], reader.Recipients);
        Assert.Equal(Encoding.UTF8.GetByteCount(Envelope), reader.Length);
    }

    [Theory]
    [InlineData("X-Failmail-Envelope-From: <>\r\nX-Failmail-Envelope-To: <postmaster>\r\n")] // empty message, null sender
    [InlineData("X-Failmail-Envelope-From: <a@y.test>\r\nX-Failmail-Envelope-To: <b@y.test>\r\n\r\nno headers\r\n")]
    [InlineData("X-Failmail-Envelope-From: <a@y.test>\r\nX-Failmail-Envelope-To: <b@y.test>\r\nX-Fail")] // a short last line
    [InlineData("X-Failmail-Envelope-From: <a@y.test>\r\nX-Failmail-Envelope-To: <\"a b\"@y.test>\r\nX-Failmail-Other: 1\r\n")]
    public void ValidEnvelopesAreCompleteInEverySegmentation(string file)
    {
        AssertSameEverySegmentation(file, SpoolEnvelopeStatus.Complete);
    }

    [Theory]
    [InlineData("Subject: no envelope\r\n\r\nb\r\n", "no X-Failmail-Envelope-From")]
    [InlineData("", "no X-Failmail-Envelope-From")]
    [InlineData("X-Failmail-Envelope-From: <a@y.test>\r\nSubject: s\r\n\r\n", "no X-Failmail-Envelope-To")]
    [InlineData("X-Failmail-Envelope-From: a@y.test\r\nX-Failmail-Envelope-To: <b@y.test>\r\n\r\n", "line 1: X-Failmail-Envelope-From is not a path")]
    [InlineData("X-Failmail-Envelope-From: <a@y.test>\r\nX-Failmail-Envelope-To: <a@y.test>, <b@y.test>\r\n\r\n", "line 2: X-Failmail-Envelope-To holds more than one path")]
    [InlineData("X-Failmail-Envelope-From: <a@y.test>\r\nX-Failmail-Envelope-To: <a b@y.test>\r\n\r\n", "line 2: X-Failmail-Envelope-To is not a path")]
    [InlineData("X-Failmail-Envelope-From: <a@y.test>\r\nX-Failmail-Envelope-To: <@>\r\n\r\n", "line 2: X-Failmail-Envelope-To is not a path")]
    [InlineData("X-Failmail-Envelope-From: <a@y.test>\r\nX-Failmail-Envelope-To: <>\r\n\r\n", "line 2: X-Failmail-Envelope-To is not a path")]
    [InlineData("X-Failmail-Envelope-From: <a@y.test>\r\nX-Failmail-Envelope-To: <root>\r\n\r\n", "line 2: X-Failmail-Envelope-To is not a path")]
    [InlineData("X-Failmail-Envelope-From: <a@y.test>\r\nX-Failmail-Envelope-To: <b@y.test>\r\nX-Failmail-Envelope-To <c@y.test>\r\n\r\n", "line 3 is not an X-Failmail-Envelope-From or -To field")]
    [InlineData("X-Failmail-Envelope-From: <a@y.test>\r\nX-Failmail-Envelope-To: <b@y.test>\r\nX-Failmail-Envelope-Cc: <c@y.test>\r\n", "line 3 is not an X-Failmail-Envelope-From or -To field")]
    [InlineData("X-Failmail-Envelope-From: <a@y.test>\r\nX-Failmail-Envelope-To: <b@y.test>\r\n <c@y.test>\r\n\r\n", "line 2 is folded")]
    [InlineData("X-Failmail-Envelope-From: <a@y.test>\r\nX-Failmail-Envelope-From: <a@y.test>\r\nX-Failmail-Envelope-To: <b@y.test>\r\n", "line 2: X-Failmail-Envelope-From must be the first line")]
    [InlineData("X-Failmail-Envelope-To: <b@y.test>\r\nX-Failmail-Envelope-From: <a@y.test>\r\n", "line 1: X-Failmail-Envelope-To before")]
    [InlineData("X-Failmail-Envelope-From: <a@y.test>\r\nX-Failmail-Envelope-To: <b@y.test>", "the file ends inside envelope line 2")]
    [InlineData("X-Failmail-Envelope-From: <a@y.test>\r\nX-Failmail-Envelope-To: <b@y.test>\r\nX-Failmail-Envelope-To: <c@y.test>\r\nX-Failmail-Envelope-To: <d@y.test>\r\nX-Failmail-Envelope-To: <e@y.test>\r\n", "more than 3 recipients")]
    public void MalformedEnvelopesAreBadInEverySegmentation(string file, string reason)
    {
        AssertSameEverySegmentation(file, SpoolEnvelopeStatus.Bad, reason);
    }

    [Fact]
    public void AnEnvelopeLineIsReadOnlyUpToItsLimit()
    {
        var atLimit = "X-Failmail-Envelope-To: <" + new string('a', 80 - 33) + "@y.test>";
        Assert.Equal(80, atLimit.Length);
        AssertSameEverySegmentation($"X-Failmail-Envelope-From: <>\r\n{atLimit}\r\n\r\n", SpoolEnvelopeStatus.Complete);
        var over = "X-Failmail-Envelope-To: <" + new string('a', 81 - 33) + "@y.test>";
        AssertSameEverySegmentation($"X-Failmail-Envelope-From: <>\r\n{over}\r\n\r\n", SpoolEnvelopeStatus.Bad, "envelope line 2 is longer than 80 octets");

        // A line that never ends is refused from one window, however much follows.
        var endless = Encoding.ASCII.GetBytes("X-Failmail-Envelope-From: <>\r\nX-Failmail-Envelope-To: <" + new string('a', 100_000));
        var reader = new SpoolEnvelopeReader(Limits);
        Assert.Equal(SpoolEnvelopeStatus.Bad, reader.Read(endless, final: false, out _));
        Assert.Contains("longer than 80 octets", reader.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void SeededRandomInputGivesTheSameResultWholeAndByteByByte()
    {
        var random = new Random(20261201);
        string[] pieces =
        [
            "X-Failmail-Envelope-From: ", "X-Failmail-Envelope-To: ", "X-Failmail-Envelope-", "<a@y.test>", "<>", ", ", " ", "\t",
            "\r\n", "\n", "\r", "Subject: s", "<a b@y.test>", "@", ":", "x",
        ];
        for (var i = 0; i < 500; i++)
        {
            var text = new StringBuilder(i % 2 == 0 ? "X-Failmail-Envelope-From: <>\r\n" : "");
            for (var n = random.Next(12); n > 0; n--)
            {
                text.Append(pieces[random.Next(pieces.Length)]);
            }
            var file = Encoding.UTF8.GetBytes(text.ToString());
            var (whole, wholeReader) = Run(file, 0);
            var (bytewise, reader) = Run(file, 1);
            Assert.Equal(whole, bytewise);
            Assert.Equal(wholeReader.Reason, reader.Reason);
            Assert.Equal(wholeReader.Length, reader.Length);
            Assert.Equal(wholeReader.Recipients, reader.Recipients);
        }
    }
}
