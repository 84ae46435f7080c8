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
}
