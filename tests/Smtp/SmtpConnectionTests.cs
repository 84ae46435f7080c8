using System.Text;
using Failmail.Rewriting;
using Failmail.Smtp;

namespace Failmail.Tests.Smtp;

// Transcript tests: one SmtpConnection over in-memory pipes, no sockets.
public class SmtpConnectionTests
{
    private static string Stored(SmtpTranscript t, int index = 0)
    {
        var message = t.Sink.Messages.ElementAt(index);
        using var stream = t.Store.OpenRead(message.Id);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [Fact]
    public async Task AMessageIsStoredWithItsEnvelopeAndQueued()
    {
        await using var t = new SmtpTranscript(rewriter: new RecipientRewriter(@"failmail\+([^@]*)@example.com", "$1@example.com"));
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.SendAsync("EHLO client.example");
        var ehlo = await t.ReadReplyAsync();
        Assert.Equal("250-mx.test Hello client.example", ehlo[0]);
        Assert.Contains("250-SIZE 10000", ehlo);
        Assert.Equal("250 HELP", ehlo[^1]);
        await t.SendAsync("MAIL FROM:<app@example.com>");
        await t.ExpectAsync("250 2.1.0 OK");
        await t.SendAsync("RCPT TO:<failmail+ops@example.com>");
        await t.ExpectAsync("250 2.1.5 OK");
        await t.SendAsync("RCPT TO:<dev@example.com>");
        await t.ExpectAsync("250 2.1.5 OK");
        await t.SendAsync("DATA");
        await t.ExpectAsync("354 End data with <CR><LF>.<CR><LF>");
        await t.SendAsync("Subject: disk full", "", "..dot", "/var is 100% full", ".");
        var reply = await t.ReadLineAsync();
        Assert.StartsWith("250 2.0.0 Ok: queued as ", reply);

        var message = Assert.Single(t.Sink.Messages);
        Assert.EndsWith(message.Id, reply);
        Assert.Equal("app@example.com", message.Envelope.From);
        Assert.Equal(["dev@example.com", "ops@example.com"], message.Envelope.Recipients);
        Assert.Equal(t.Time.GetUtcNow(), message.Envelope.Received);
        Assert.Equal("192.0.2.7", message.Envelope.ClientAddress);
        Assert.Equal("Subject: disk full\r\n\r\n.dot\r\n/var is 100% full\r\n", Stored(t));
        Assert.Equal(1, t.Context.MessagesAccepted);

        // A second message in the same session, with the null sender.
        await t.SendAsync("MAIL FROM:<>", "RCPT TO:<a@b.c>", "DATA");
        await t.ExpectAsync("250 2.1.0 OK", "250 2.1.5 OK", "354 End data with <CR><LF>.<CR><LF>");
        await t.SendAsync("x", ".");
        Assert.StartsWith("250 2.0.0", await t.ReadLineAsync());
        Assert.Equal("", t.Sink.Messages.ElementAt(1).Envelope.From);
        await t.SendAsync("QUIT");
        await t.ExpectAsync("221 2.0.0 mx.test closing connection");
        await t.ExpectClosedAsync();
    }

    [Fact]
    public async Task PipelinedCommandsAreAllAnsweredInOrder()
    {
        await using var t = new SmtpTranscript();
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.SendRawAsync("HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@b.c>\r\nRCPT TO:<y@b.c>\r\nDATA\r\n");
        await t.ExpectAsync("250 mx.test", "250 2.1.0 OK", "250 2.1.5 OK", "250 2.1.5 OK", "354 End data with <CR><LF>.<CR><LF>");
        // The message, its end and the next commands arrive in one write (RFC 2920).
        await t.SendRawAsync("Subject: s\r\n\r\nbody\r\n.\r\nNOOP\r\nRSET\r\nQUIT\r\n");
        Assert.StartsWith("250 2.0.0 Ok: queued as", await t.ReadLineAsync());
        await t.ExpectAsync("250 2.0.0 OK", "250 2.0.0 Reset", "221 2.0.0 mx.test closing connection");
        await t.ExpectClosedAsync();
        Assert.Equal("Subject: s\r\n\r\nbody\r\n", Stored(t));
    }

    [Fact]
    public async Task QuitArrivingWithTheFinIsAnswered()
    {
        await using var t = new SmtpTranscript();
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.SendRawAsync("NOOP\r\nQUIT\r\n");
        t.CloseClientOutput();
        await t.ExpectAsync("250 2.0.0 OK", "221 2.0.0 mx.test closing connection");
        await t.ExpectClosedAsync();
    }

    [Fact]
    public async Task APartialLineAfterACompleteOneWaitsForMoreInsteadOfSpinning()
    {
        await using var t = new SmtpTranscript();
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.SendRawAsync("NOOP\r\nNO");
        await t.ExpectAsync("250 2.0.0 OK");
        var reads = t.ReadCount;
        // Give a spinning reader (examined left short of the buffer end) the chance to show.
        for (var i = 0; i < 1000; i++)
        {
            await Task.Yield();
        }
        await t.SendRawAsync("OP\r\n");
        await t.ExpectAsync("250 2.0.0 OK");
        Assert.InRange(t.ReadCount - reads, 0, 2);
    }

    [Fact]
    public async Task ABareLfCommandIsAnsweredAt500RightAway()
    {
        await using var t = new SmtpTranscript();
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.SendRawAsync("NOOP\n");
        await t.ExpectAsync("500 5.5.2 Bare LF, end command lines with CRLF");
        await t.SendAsync("NOOP");
        await t.ExpectAsync("250 2.0.0 OK");
    }

    [Fact]
    public async Task APartialLineAtEofIsNotRun()
    {
        await using var t = new SmtpTranscript();
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.SendRawAsync("QUIT");
        t.CloseClientOutput();
        await t.ExpectClosedAsync();
    }

    [Fact]
    public async Task UnknownAndOutOfOrderCommands()
    {
        await using var t = new SmtpTranscript();
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.SendAsync("FOO", "EXPN list", "RCPT TO:<a@b.c>", "MAIL FROM:nobrackets", "VRFY root", "HELP");
        await t.ExpectAsync(
            "500 5.5.2 Command not recognized",
            "502 5.5.1 Command not implemented",
            "503 5.5.1 Need MAIL before RCPT",
            "501 5.5.4 Syntax: MAIL FROM:<address>",
            "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery",
            "214 2.0.0 See RFC 5321");
    }

    [Fact]
    public async Task ALineOverTheLimitIs500AndDiscardedWithoutBuffering()
    {
        await using var t = new SmtpTranscript();
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        // 5000 bytes in small writes: the server must answer once and drop them all.
        for (var i = 0; i < 10; i++)
        {
            await t.SendRawAsync(new string('A', 500));
        }
        await t.SendRawAsync("\r\nNOOP\r\n");
        await t.ExpectAsync("500 5.5.2 Line too long", "250 2.0.0 OK");
        // A 510-character line plus CRLF is exactly the limit and still parses.
        await t.SendAsync("NOOP " + new string('x', 505));
        await t.ExpectAsync("250 2.0.0 OK");
    }

    [Fact]
    public async Task SlowlorisOneBytePerIntervalStillHitsTheCommandTimeout()
    {
        await using var t = new SmtpTranscript();
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        var step = t.Limits.CommandTimeout / 10;
        // Nine bytes, each after most of a tenth of the timeout: no line completes, and the
        // deadline must not move. A per-byte timer would never fire here.
        foreach (var b in "NOOP NOOP")
        {
            await t.SendRawAsync(b.ToString());
            await t.ServerReadAsync();
            t.Time.Advance(step);
        }
        await t.SendRawAsync("N");
        await t.ServerReadAsync();
        t.Time.Advance(step);
        await t.ExpectAsync("421 4.4.2 Timeout, closing connection");
        await t.ExpectClosedAsync();
    }

    [Fact]
    public async Task CompleteCommandsRestartTheCommandDeadline()
    {
        await using var t = new SmtpTranscript();
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        for (var i = 0; i < 3; i++)
        {
            t.Time.Advance(t.Limits.CommandTimeout - TimeSpan.FromSeconds(1));
            await t.SendAsync("NOOP");
            await t.ExpectAsync("250 2.0.0 OK");
        }
        t.Time.Advance(t.Limits.CommandTimeout);
        await t.ExpectAsync("421 4.4.2 Timeout, closing connection");
        await t.ExpectClosedAsync();
    }

    [Fact]
    public async Task ShutdownTellsAnIdleSession421()
    {
        await using var t = new SmtpTranscript();
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        t.Shutdown();
        await t.ExpectAsync("421 4.3.2 Shutting down");
        await t.ExpectClosedAsync();
    }

    [Fact]
    public async Task StartTlsDiscardsPipelinedPlaintextAndResetsTheSession()
    {
        using var cert = new TestCertificate();
        var context = SmtpTls.Load(cert.CertPath, cert.KeyPath);
        await using var t = new SmtpTranscript(certificate: context, credentials: new SmtpCredentials("u", "p"));
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.SendAsync("EHLO c");
        var ehlo = await t.ReadReplyAsync();
        Assert.Contains("250-STARTTLS", ehlo);
        Assert.DoesNotContain(ehlo, l => l.Contains("AUTH", StringComparison.Ordinal));
        await t.SendAsync("MAIL FROM:<a@b.c>");
        await t.ExpectAsync("530 5.7.0 Authentication required");
        // An injected command after STARTTLS (CVE-2011-0411) must not run.
        await t.SendRawAsync("STARTTLS\r\nNOOP\r\n");
        await t.ExpectAsync("220 2.0.0 Ready to start TLS");
        await t.StartClientTlsAsync();
        // Inside TLS the session starts over: RCPT has no MAIL, EHLO offers AUTH, not STARTTLS.
        await t.SendAsync("EHLO c");
        var secure = await t.ReadReplyAsync();
        Assert.DoesNotContain("250-STARTTLS", secure);
        Assert.Contains("250-AUTH PLAIN LOGIN", secure);
        await t.SendAsync("AUTH PLAIN " + Convert.ToBase64String("\0u\0p"u8.ToArray()));
        await t.ExpectAsync("235 2.7.0 Authentication successful");
        await t.SendAsync("RCPT TO:<x@b.c>", "STARTTLS", "QUIT");
        await t.ExpectAsync("503 5.5.1 Need MAIL before RCPT", "503 5.5.1 TLS already active", "221 2.0.0 mx.test closing connection");
    }
}
