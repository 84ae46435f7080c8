using System.Buffers;
using System.Text;
using Failmail.Smtp;

namespace Failmail.Tests.Smtp;

public class SmtpCommandParserTests
{
    private static SmtpCommand ParseLine(string text)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(text + "\r\n")));
        Assert.Equal(FrameResult.Line, new CommandLineFramer(1000).TryRead(ref reader, out var line));
        return SmtpCommandParser.Parse(line);
    }

    public static TheoryData<string> Lines => new()
    {
        "EHLO client.example.com",
        "MAIL FROM:<app@example.com> SIZE=1000 BODY=8BITMIME",
        "RCPT TO:<ops@example.com>",
        "AUTH PLAIN AHUAcA==",
        "QUIT",
    };

    [Theory]
    [MemberData(nameof(Lines))]
    public void EveryPrefixOfALineIsIncompleteAndTheWholeLineParsesInAnySegmentation(string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text + "\r\n");
        var expected = SmtpCommandParser.Parse(Encoding.ASCII.GetBytes(text));
        for (var length = 0; length < bytes.Length; length++)
        {
            foreach (var prefix in Segments.Variants(bytes[..length]))
            {
                var reader = new SequenceReader<byte>(prefix);
                Assert.Equal(FrameResult.NeedMore, new CommandLineFramer(512).TryRead(ref reader, out _));
                Assert.Equal(0, reader.Consumed);
            }
        }
        foreach (var whole in Segments.Variants(bytes))
        {
            var reader = new SequenceReader<byte>(whole);
            Assert.Equal(FrameResult.Line, new CommandLineFramer(512).TryRead(ref reader, out var line));
            Assert.Equal(bytes.Length, reader.Consumed);
            Assert.Equal(expected, SmtpCommandParser.Parse(line));
        }
    }

    [Fact]
    public void TwoPipelinedLinesAreReadOneAfterTheOther()
    {
        foreach (var buffer in Segments.Variants("NOOP\r\nQUIT\r\nRS"u8.ToArray()))
        {
            var reader = new SequenceReader<byte>(buffer);
            var framer = new CommandLineFramer(512);
            Assert.Equal(FrameResult.Line, framer.TryRead(ref reader, out var first));
            Assert.Equal(SmtpVerb.Noop, SmtpCommandParser.Parse(first).Verb);
            Assert.Equal(FrameResult.Line, framer.TryRead(ref reader, out var second));
            Assert.Equal(SmtpVerb.Quit, SmtpCommandParser.Parse(second).Verb);
            Assert.Equal(FrameResult.NeedMore, framer.TryRead(ref reader, out _));
            Assert.Equal(2, reader.Remaining);
        }
    }

    [Fact]
    public void ABareLfLineIsReportedAndTheNextLineStillParses()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>("NOOP\nQUIT\r\n"u8.ToArray()));
        var framer = new CommandLineFramer(512);
        Assert.Equal(FrameResult.BareLf, framer.TryRead(ref reader, out _));
        Assert.Equal(FrameResult.Line, framer.TryRead(ref reader, out var line));
        Assert.Equal(SmtpVerb.Quit, SmtpCommandParser.Parse(line).Verb);
    }

    [Theory]
    [InlineData("EHLO example.com", "example.com")]
    [InlineData("ehlo 3com.com", "3com.com")]
    [InlineData("EHLO 1.0.0.127.in-addr.arpa", "1.0.0.127.in-addr.arpa")]
    [InlineData("EHLO [10.130.27.199]", "[10.130.27.199]")]
    [InlineData("EHLO [IPv6:2001:db8::1]", "[IPv6:2001:db8::1]")]
    [InlineData("EHLO 192.168.0.1", "192.168.0.1")]
    [InlineData("EHLO ::1", "::1")]
    [InlineData("HELO my_host.local.", "my_host.local.")]
    [InlineData("EHLO example.com  ", "example.com")]
    public void HeloAndEhloAcceptRealWorldDomains(string line, string domain)
    {
        var command = ParseLine(line);
        Assert.Null(command.Error);
        Assert.Equal(domain, command.Argument);
    }

    [Theory]
    [InlineData("EHLO")]
    [InlineData("HELO ")]
    [InlineData("EHLO [300.1.1.1]")]
    [InlineData("EHLO [IPv6:nonsense]")]
    [InlineData("EHLO a..b")]
    [InlineData("EHLO two words")]
    public void BadHeloArgumentIs501(string line) => Assert.Equal(501, ParseLine(line).Error?.Code);

    [Theory]
    [InlineData("MAIL FROM:<a@example.com>", "a@example.com", -1L)]
    [InlineData("mail from:<a@example.com>", "a@example.com", -1L)]
    [InlineData("MAIL FROM: <a@example.com>", "a@example.com", -1L)]
    [InlineData("MAIL FROM:<>", "", -1L)]
    [InlineData("MAIL FROM:<a@example.com> SIZE=12345", "a@example.com", 12345L)]
    [InlineData("MAIL FROM:<a@example.com> BODY=7BIT SMTPUTF8 AUTH=<>", "a@example.com", -1L)]
    [InlineData("MAIL FROM:<a@example.com> SIZE=99999999999999999999", "a@example.com", long.MaxValue)]
    [InlineData("MAIL FROM:<@relay.example,@b.example:a@example.com>", "a@example.com", -1L)]
    [InlineData("MAIL FROM:<\"john doe\"@example.com>", "\"john doe\"@example.com", -1L)]
    [InlineData("MAIL FROM:<user@3com.com>", "user@3com.com", -1L)]
    [InlineData("MAIL FROM:<root@[127.0.0.1]>", "root@[127.0.0.1]", -1L)]
    [InlineData("MAIL FROM:<jörg@bücher.example> SMTPUTF8", "jörg@bücher.example", -1L)]
    // Bare local names parse; the session takes them only from loopback clients (issue 16).
    [InlineData("MAIL FROM:<root>", "root", -1L)]
    [InlineData("MAIL FROM:<postmaster> SIZE=10", "postmaster", 10L)]
    public void MailFromParsesPathAndParameters(string line, string address, long size)
    {
        var command = ParseLine(line);
        Assert.Null(command.Error);
        Assert.Equal(SmtpVerb.Mail, command.Verb);
        Assert.Equal(address, command.Argument);
        Assert.Equal(size, command.Size);
    }

    [Theory]
    [InlineData("MAIL FROM:a@example.com", 501)]
    [InlineData("MAIL TO:<a@example.com>", 501)]
    [InlineData("MAIL FROM:<a@example.com", 501)]
    [InlineData("MAIL FROM:<a example.com>", 501)]
    [InlineData("MAIL FROM:<\"quoted name\">", 501)]
    [InlineData("RCPT TO:<\"root\">", 501)]
    [InlineData("MAIL FROM:<a@example.com>x", 501)]
    [InlineData("MAIL FROM:<a@example.com> SIZE=abc", 501)]
    [InlineData("MAIL FROM:<a@example.com> BODY=BINARYMIME", 501)]
    [InlineData("MAIL FROM:<a@example.com> RET=FULL", 555)]
    [InlineData("RCPT TO:<a@example.com> NOTIFY=NEVER", 555)]
    [InlineData("RCPT TO:<>", 501)]
    [InlineData("RCPT TO:", 501)]
    [InlineData("RCPT FROM:<a@example.com>", 501)]
    public void BadMailOrRcptIsRejected(string line, int code) => Assert.Equal(code, ParseLine(line).Error?.Code);

    [Theory]
    [InlineData("RCPT TO:<ops@example.com>", "ops@example.com")]
    [InlineData("rcpt to: <ops@example.com>", "ops@example.com")]
    [InlineData("RCPT TO:<Postmaster>", "Postmaster")]
    public void RcptToParses(string line, string address)
    {
        var command = ParseLine(line);
        Assert.Null(command.Error);
        Assert.Equal(SmtpVerb.Rcpt, command.Verb);
        Assert.Equal(address, command.Argument);
    }

    [Theory]
    [InlineData("AUTH PLAIN", "PLAIN", null)]
    [InlineData("AUTH plain AHUAcA==", "PLAIN", "AHUAcA==")]
    [InlineData("AUTH LOGIN dQ==", "LOGIN", "dQ==")]
    [InlineData("AUTH PLAIN =", "PLAIN", "=")]
    public void AuthMechanismIsCaseInsensitive(string line, string mechanism, string? initial)
    {
        var command = ParseLine(line);
        Assert.Null(command.Error);
        Assert.Equal(mechanism, command.Argument);
        Assert.Equal(initial, command.Parameter);
    }

    [Theory]
    [InlineData("", "Unknown")]
    [InlineData("HELLO", "Unknown")]
    [InlineData("EXPN list", "NotImplemented")]
    [InlineData("BDAT 10 LAST", "NotImplemented")]
    [InlineData("TURN", "NotImplemented")]
    [InlineData("noop", "Noop")]
    [InlineData("NOOP anything", "Noop")]
    [InlineData("HELP MAIL", "Help")]
    [InlineData("VRFY user", "Vrfy")]
    [InlineData("StartTLS", "StartTls")]
    [InlineData("RSET", "Rset")]
    [InlineData("DATA", "Data")]
    public void VerbsAreRecognised(string line, string verb)
    {
        var command = ParseLine(line);
        Assert.Equal(verb, command.Verb.ToString());
        Assert.Null(command.Error);
    }

    [Theory]
    [InlineData("DATA now")]
    [InlineData("QUIT please")]
    [InlineData("STARTTLS x")]
    [InlineData("VRFY")]
    [InlineData("AUTH")]
    [InlineData("AUTH PL@IN")]
    public void ArgumentsWhereNoneBelongAre501(string line) => Assert.Equal(501, ParseLine(line).Error?.Code);
}
