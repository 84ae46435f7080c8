using Failmail.Smtp;

namespace Failmail.Tests.Smtp;

// Transcript tests of DATA (SmtpDataReceiver): the size limit, refusals from a full queue or
// a failing store, the DATA deadline and a shutdown in the middle of a message.
public class SmtpDataReceiverTests
{
    [Fact]
    public async Task DataOverLimitIsDrainedAndRejectedWith552()
    {
        await using var t = new SmtpTranscript(limits: new SmtpLimits(100, 512, 10, 10, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10)));
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.SendAsync("MAIL FROM:<a@b.c> SIZE=101");
        await t.ExpectAsync("552 5.3.4 Message size exceeds fixed maximum message size");
        await t.SendAsync("MAIL FROM:<a@b.c>", "RCPT TO:<x@b.c>", "DATA");
        await t.ExpectAsync("250 2.1.0 OK", "250 2.1.5 OK", "354 End data with <CR><LF>.<CR><LF>");
        for (var i = 0; i < 20; i++)
        {
            await t.SendAsync(new string('z', 60));
        }
        await t.SendAsync(".");
        await t.ExpectAsync("552 5.3.4 Message size exceeds fixed maximum message size");
        Assert.Empty(t.Sink.Messages);
        Assert.Equal(1, t.Context.MessagesRejected);
        // The session goes on, with the transaction cleared.
        await t.SendAsync("RCPT TO:<x@b.c>", "NOOP");
        await t.ExpectAsync("503 5.5.1 Need MAIL before RCPT", "250 2.0.0 OK");
    }

    [Fact]
    public async Task AFullQueueIs451AtDataAndAtTheEndOfData()
    {
        await using var t = new SmtpTranscript();
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        t.Sink.Full = true;
        await t.SendAsync("MAIL FROM:<a@b.c>", "RCPT TO:<x@b.c>", "DATA");
        await t.ExpectAsync("250 2.1.0 OK", "250 2.1.5 OK", "451 4.3.2 Queue full, try again later");
        t.Sink.Full = false;
        await t.SendAsync("MAIL FROM:<a@b.c>", "RCPT TO:<x@b.c>", "DATA");
        await t.ExpectAsync("250 2.1.0 OK", "250 2.1.5 OK", "354 End data with <CR><LF>.<CR><LF>");
        t.Sink.Full = true;
        await t.SendAsync("x", ".");
        await t.ExpectAsync("451 4.3.2 Queue full, try again later");
        Assert.Empty(t.Sink.Messages);
        Assert.Empty(t.Store.LoadPending());
        Assert.Equal(2, t.Context.MessagesRejected);
        Assert.Equal(0, t.Context.MessagesAccepted);
    }

    [Theory]
    [InlineData("create", 5, "451 4.3.0 Local error in processing")]
    [InlineData("write", 5, "451 4.3.0 Local error in processing")]
    [InlineData("commit", 5, "451 4.3.0 Local error in processing")]
    [InlineData("commit", 28, "452 4.3.1 Insufficient system storage")]
    public async Task StoreFailuresAreTemporaryAndTheSessionGoesOn(string failAt, int errno, string expected)
    {
        var logger = new ListLoggerFactory();
        await using var t = new SmtpTranscript(store: new FailingStore(failAt, errno), logger: logger);
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.SendAsync("MAIL FROM:<a@b.c>", "RCPT TO:<x@b.c>", "DATA");
        await t.ExpectAsync("250 2.1.0 OK", "250 2.1.5 OK");
        if (failAt != "create")
        {
            await t.ExpectAsync("354 End data with <CR><LF>.<CR><LF>");
            await t.SendAsync("x", ".");
        }
        await t.ExpectAsync(expected);
        await t.SendAsync("NOOP");
        await t.ExpectAsync("250 2.0.0 OK");
        Assert.Empty(t.Sink.Messages);
        Assert.Contains(logger.Lines, l => l.Text.Contains("message not stored", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DataHasItsOwnDeadlineForTheWholeMessage()
    {
        await using var t = new SmtpTranscript();
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.SendAsync("MAIL FROM:<a@b.c>", "RCPT TO:<x@b.c>", "DATA");
        await t.ExpectAsync("250 2.1.0 OK", "250 2.1.5 OK", "354 End data with <CR><LF>.<CR><LF>");
        var step = t.Limits.DataTimeout / 4;
        for (var i = 0; i < 4; i++)
        {
            await t.SendAsync("line " + i);
            await t.ServerReadAsync();
            t.Time.Advance(step);
        }
        await t.ExpectAsync("421 4.4.2 Timeout, closing connection");
        await t.ExpectClosedAsync();
        Assert.Empty(t.Sink.Messages);
    }

    [Fact]
    public async Task ShutdownLetsASessionInDataFinishItsMessage()
    {
        await using var t = new SmtpTranscript();
        await t.ExpectAsync("220 mx.test ESMTP failmail");
        await t.SendAsync("MAIL FROM:<a@b.c>", "RCPT TO:<x@b.c>", "DATA");
        await t.ExpectAsync("250 2.1.0 OK", "250 2.1.5 OK", "354 End data with <CR><LF>.<CR><LF>");
        await t.SendAsync("Subject: half");
        await t.ServerReadAsync();
        t.Shutdown();
        await t.SendAsync("", "rest", ".");
        Assert.StartsWith("250 2.0.0 Ok: queued as", await t.ReadLineAsync());
        await t.ExpectAsync("421 4.3.2 Shutting down");
        await t.ExpectClosedAsync();
        Assert.Single(t.Sink.Messages);
    }
}
