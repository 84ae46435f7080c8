using Failmail.Smtp;

namespace Failmail.Tests.Smtp;

// Transcript tests of AUTH on the connection (SmtpAuthGuard): the delayed 535, the
// continuation lines, and a debug log without secrets.
public class SmtpAuthGuardTests
{
    [Fact]
    public async Task WrongAuthIsAnsweredOnlyAfterADelayAndRepeatedFailuresClose()
    {
        await using var t = new SmtpTranscript(credentials: new SmtpCredentials("u", "p"), allowUnencryptedAuth: true);
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.EhloAsync();
        var wrong = "AUTH PLAIN " + Convert.ToBase64String("\0u\0x"u8.ToArray());
        for (var failure = 1; failure < SmtpLimits.MaxAuthFailures; failure++)
        {
            await t.SendAsync(wrong);
            await t.ServerReadAsync();
            var reply = t.ReadLineAsync();
            // The delay grows: failure n waits n seconds of (fake) time.
            t.Time.Advance(TimeSpan.FromSeconds(failure) - TimeSpan.FromMilliseconds(1));
            Assert.False(reply.IsCompleted);
            t.Time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal("535 5.7.8 Authentication credentials invalid", await reply);
        }
        await t.SendAsync(wrong);
        await t.ExpectAsync("421 4.7.0 Too many authentication failures");
        await t.ExpectClosedAsync();
    }

    [Fact]
    public async Task AuthPlainContinuationAndCancelOverTheWire()
    {
        await using var t = new SmtpTranscript(credentials: new SmtpCredentials("u", "p"), allowUnencryptedAuth: true);
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.EhloAsync();
        await t.SendAsync("AUTH PLAIN");
        await t.ExpectAsync("334 ");
        await t.SendAsync("*");
        await t.ExpectAsync("501 5.7.0 Authentication cancelled");
        await t.SendAsync("AUTH LOGIN");
        await t.ExpectAsync("334 VXNlcm5hbWU6");
        await t.SendAsync("not base64!");
        await t.ExpectAsync("501 5.5.2 Cannot decode response");
        await t.SendAsync("AUTH XOAUTH2", "AUTH PLAIN");
        await t.ExpectAsync("504 5.5.4 Unrecognized authentication type", "334 ");
        await t.SendAsync(Convert.ToBase64String("\0u\0p"u8.ToArray()));
        await t.ExpectAsync("235 2.7.0 Authentication successful");
        await t.SendAsync("MAIL FROM:<a@b.c>");
        await t.ExpectAsync("250 2.1.0 OK");
    }

    [Fact]
    public async Task DebugLogShowsCommandsButNeverAuthDataOrMessageContent()
    {
        var logger = new ListLoggerFactory();
        await using var t = new SmtpTranscript(credentials: new SmtpCredentials("user", "secret"), allowUnencryptedAuth: true, logger: logger, debug: true);
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.EhloAsync();
        var plain = Convert.ToBase64String("\0user\0secret"u8.ToArray());
        await t.SendAsync("AUTH PLAIN " + plain);
        await t.ExpectAsync("235 2.7.0 Authentication successful");
        await t.SendAsync("AUTH PL@IN c2VjcmV0");
        await t.ExpectAsync("501 5.5.4 Syntax: AUTH mechanism [initial-response]");
        await t.SendAsync("AUTH LOGIN");
        await t.ExpectAsync("503 5.5.1 Already authenticated");
        await t.SendAsync("MAIL FROM:<a@b.c>", "RCPT TO:<x@b.c>", "DATA");
        await t.ExpectAsync("250 2.1.0 OK", "250 2.1.5 OK", "354 End data with <CR><LF>.<CR><LF>");
        await t.SendAsync("Subject: top-secret-body", ".");
        Assert.StartsWith("250", await t.ReadLineAsync());
        var log = string.Join("\n", logger.Lines.Select(l => l.Text));
        Assert.Contains("<<< MAIL FROM:<a@b.c>", log);
        Assert.Contains(">>> 250 2.1.0 OK", log);
        Assert.Contains("AUTH PLAIN <AUTH data hidden>", log);
        Assert.DoesNotContain(plain, log);
        Assert.DoesNotContain("c2VjcmV0", log);
        Assert.Contains("<<< AUTH LOGIN", log);
        Assert.DoesNotContain("top-secret-body", log);
    }

    // RFC 4954 §4: a response the server cannot read ends the exchange. Before this fix the
    // exchange stayed open after "500 Line too long" and the next command was taken for the
    // username.
    [Theory]
    [InlineData("AUTH LOGIN", "334 VXNlcm5hbWU6", false)]
    [InlineData("AUTH PLAIN", "334 ", false)]
    [InlineData("AUTH LOGIN", "334 VXNlcm5hbWU6", true)]
    public async Task OverlongLineInsideAnAuthExchangeEndsItAndTheNextLineIsACommand(string start, string challenge, bool afterUser)
    {
        await using var t = new SmtpTranscript(credentials: new SmtpCredentials("u", "p"), allowUnencryptedAuth: true);
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.EhloAsync();
        await t.SendAsync(start);
        await t.ExpectAsync(challenge);
        if (afterUser)
        {
            await t.SendAsync(Convert.ToBase64String("u"u8.ToArray()));
            await t.ExpectAsync("334 UGFzc3dvcmQ6");
        }
        // Twice the line limit: the reply comes once the window is full, the rest is discarded.
        await t.SendAsync(new string('A', 2 * t.Limits.MaxCommandLine));
        await t.ExpectAsync("500 5.5.6 Authentication Exchange line is too long");
        await t.SendAsync("NOOP");
        await t.ExpectAsync("250 2.0.0 OK");
        // No failure was counted, and AUTH works again on the same connection.
        await t.SendAsync("AUTH PLAIN " + Convert.ToBase64String("\0u\0p"u8.ToArray()));
        await t.ExpectAsync("235 2.7.0 Authentication successful");
        await t.SendAsync("MAIL FROM:<a@b.c>", "RCPT TO:<x@b.c>", "DATA");
        await t.ExpectAsync("250 2.1.0 OK", "250 2.1.5 OK", "354 End data with <CR><LF>.<CR><LF>");
        await t.SendAsync("Subject: after the long line", "", "body", ".");
        Assert.StartsWith("250", await t.ReadLineAsync());
        Assert.Single(t.Sink.Messages);
    }

    [Fact]
    public async Task OverlongResponseSplitAcrossReadsAndPipelinedCommandsAfterIt()
    {
        await using var t = new SmtpTranscript(credentials: new SmtpCredentials("u", "p"), allowUnencryptedAuth: true);
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.EhloAsync();
        await t.SendAsync("AUTH LOGIN");
        await t.ExpectAsync("334 VXNlcm5hbWU6");
        var half = new string('B', t.Limits.MaxCommandLine);
        await t.SendRawAsync(half);
        await t.ExpectAsync("500 5.5.6 Authentication Exchange line is too long");
        // The rest of the long line, then commands in the same write.
        await t.SendRawAsync(half + "\r\nNOOP\r\nRSET\r\n");
        await t.ExpectAsync("250 2.0.0 OK", "250 2.0.0 Reset");
    }

    [Fact]
    public async Task BareLfInsideAnAuthExchangeEndsItToo()
    {
        await using var t = new SmtpTranscript(credentials: new SmtpCredentials("u", "p"), allowUnencryptedAuth: true);
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.EhloAsync();
        await t.SendAsync("AUTH PLAIN");
        await t.ExpectAsync("334 ");
        await t.SendRawAsync("AHUAcA==\n");
        await t.ExpectAsync("500 5.5.2 Bare LF, end command lines with CRLF");
        await t.SendAsync("NOOP");
        await t.ExpectAsync("250 2.0.0 OK");
    }

    [Fact]
    public async Task OverlongCommandLineOutsideAuthIsStillThePlain500()
    {
        await using var t = new SmtpTranscript(credentials: new SmtpCredentials("u", "p"), allowUnencryptedAuth: true);
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.SendAsync("AUTH PLAIN " + new string('A', 2 * t.Limits.MaxCommandLine));
        await t.ExpectAsync("500 5.5.2 Line too long");
        await t.SendAsync("NOOP");
        await t.ExpectAsync("250 2.0.0 OK");
    }

    // AUTH before any greeting is a bad sequence (503) and the session goes on serving.
    [Fact]
    public async Task AuthBeforeEhloIs503AndTheSessionKeepsServing()
    {
        await using var t = new SmtpTranscript(credentials: new SmtpCredentials("u", "p"), allowUnencryptedAuth: true);
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        var right = "AUTH PLAIN " + Convert.ToBase64String("\0u\0p"u8.ToArray());
        await t.SendAsync(right, "AUTH LOGIN");
        await t.ExpectAsync(
            "503 5.5.1 Send HELO/EHLO first",
            "503 5.5.1 Send HELO/EHLO first");
        // Not a 334: the LOGIN exchange never started, so this is a command, not a username.
        await t.SendAsync("NOOP");
        await t.ExpectAsync("250 2.0.0 OK");
        await t.EhloAsync();
        await t.SendAsync(right);
        await t.ExpectAsync("235 2.7.0 Authentication successful");
    }
}
