using System.Globalization;
using System.Text;
using Failmail.Batching;
using Failmail.Maildir;
using Failmail.Maildir.Log;
using Microsoft.Extensions.Logging.Abstractions;

namespace Failmail.Tests.EndToEnd;

// Issue 11 through the AOT binary: one odd address or one bad stored message never stops
// the pipeline. After each poison input, a normal message is still digested and relayed.
[Trait("Category", "EndToEnd")]
public sealed class PoisonInputTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static async Task SendAsync(int port, string from, string[] recipients, string subject)
    {
        await using var smtp = await RawSmtpSession.ConnectAsync(port);
        await smtp.ExpectAsync("EHLO test.example", "250");
        await smtp.ExpectAsync($"MAIL FROM:<{from}>", "250");
        foreach (var recipient in recipients)
        {
            await smtp.ExpectAsync($"RCPT TO:<{recipient}>", "250");
        }
        Assert.StartsWith("250", await smtp.DataAsync($"Subject: {subject}\r\n\r\nbody of {subject}\r\n"), StringComparison.Ordinal);
        await smtp.ExpectAsync("QUIT", "221");
    }

    private static async Task<(SmtpSink Sink, FailmailProcess Failmail)> StartAsync(string dir, params string[] extra)
    {
        var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
        var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
            ["--relay-addr", $"127.0.0.1:{sink.Port}", "--from", "failmail@test.example",
             "--wait-period", "500ms", "--max-wait", "20s", "--poll", "200ms", .. extra]);
        return (sink, failmail);
    }

    [Fact]
    public async Task RecipientsWithDotsOutOfPlaceAreDigestedAndRelayedQuoted()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var (sink, failmail) = await StartAsync(dir);
            await using (sink)
            await using (failmail)
            {
                string[] odd = ["a..b@y.test", ".a@y.test", "a.@y.test"];
                await SendAsync(failmail.SmtpPort, "x..y@app.test", odd, "disk full");
                await SendAsync(failmail.SmtpPort, "app@example.com", ["ops@example.com"], "normal after");

                await failmail.WaitUntilAsync(() => sink.Messages().Count >= 4, Patience, "four digests at smtp-sink");
                var digests = sink.Messages();
                foreach (var address in odd)
                {
                    var quoted = "\"" + address[..address.IndexOf('@', StringComparison.Ordinal)] + "\"" + address[address.IndexOf('@', StringComparison.Ordinal)..];
                    var digest = Assert.Single(digests, d => d.Recipients.SequenceEqual([quoted]));
                    Assert.Equal(quoted, digest.Message.To.Mailboxes.Single().Address);
                    Assert.Equal("[failmail] 1 instance: disk full", digest.Message.Subject);
                }
                Assert.Single(digests, d => d.Recipients.SequenceEqual(["ops@example.com"]) && d.Message.Subject == "[failmail] 1 instance: normal after");
                Assert.Empty(Directory.GetFiles(Path.Combine(dir, "run", "failed", "new")));
                await failmail.WaitUntilAsync(() => IncomingStore.Pending(Path.Combine(dir, "run", "incoming")) == 0, Patience, "the incoming store to empty");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task AQuotedLocalPartHoldingACarriageReturnGets501AndTheSessionGoesOn()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var (sink, failmail) = await StartAsync(dir);
            await using (sink)
            await using (failmail)
            {
                await using (var smtp = await RawSmtpSession.ConnectAsync(failmail.SmtpPort))
                {
                    await smtp.ExpectAsync("EHLO test.example", "250");
                    await smtp.ExpectAsync("MAIL FROM:<app@example.com>", "250");
                    // "a\<CR>b": an escaped CR inside the quotes, then the line's own CRLF.
                    await smtp.WriteAsync(Encoding.ASCII.GetBytes("RCPT TO:<\"a\\\rb\"@y.test>\r\n"));
                    Assert.StartsWith("501", await smtp.ReplyAsync(), StringComparison.Ordinal);
                    await smtp.ExpectAsync("RCPT TO:<ops@example.com>", "250");
                    Assert.StartsWith("250", await smtp.DataAsync("Subject: normal after\r\n\r\nstill here\r\n"), StringComparison.Ordinal);
                    await smtp.ExpectAsync("QUIT", "221");
                }
                await failmail.WaitUntilAsync(() => sink.Messages().Count >= 1, Patience, "the digest at smtp-sink");
                var digest = Assert.Single(sink.Messages());
                Assert.Equal(["ops@example.com"], digest.Recipients);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // A message an earlier version took for a recipient no header can carry sat in incoming/
    // and killed the batcher at every start. Now its batch alone goes to the quarantine, and
    // `failmail resend quarantine` puts a fixed one back.
    [Fact]
    public async Task AStoredMessageThatCannotBeDigestedIsQuarantinedAndTheRestFlows()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var run = Path.Combine(dir, "run");
            using (var store = new LogMessageStore(Path.Combine(run, "incoming"), NullLoggerFactory.Instance, TimeProvider.System))
            {
                var draft = store.CreateDraft();
                await using (draft)
                {
                    draft.Write("Subject: poison\r\n\r\nstored by an older failmail\r\n"u8);
                    await draft.CommitAsync(new Envelope("app@example.com", ["\"a\rb\"@y.test"], DateTimeOffset.UtcNow, "127.0.0.1"), CancellationToken.None);
                }
            }
            var (sink, failmail) = await StartAsync(dir, "--bind-http", "127.0.0.1:0");
            await using (sink)
            await using (failmail)
            {
                await SendAsync(failmail.SmtpPort, "app@example.com", ["ops@example.com"], "normal after");
                await failmail.WaitUntilAsync(() => sink.Messages().Count >= 1, Patience, "the normal digest");
                Assert.Equal(["ops@example.com"], Assert.Single(sink.Messages()).Recipients);

                var quarantined = Assert.Single(Directory.GetFiles(Path.Combine(run, "quarantine", "new")));
                var text = await File.ReadAllTextAsync(quarantined);
                Assert.StartsWith("X-Failmail-Quarantine-Reason: digest for <\"a b\"@y.test>", text, StringComparison.Ordinal);
                Assert.Contains("Subject: poison", text, StringComparison.Ordinal);
                await failmail.WaitUntilAsync(() => IncomingStore.Pending(Path.Combine(run, "incoming")) == 0, Patience, "the incoming store to empty");
                Assert.Contains("quarantined 1 messages", failmail.Stdout + failmail.Stderr, StringComparison.Ordinal);

                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{failmail.HttpPort}") };
                var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)).WaitAsync(Patience);
                Assert.Contains("failmail_quarantined_batches_total 1\n", metrics, StringComparison.Ordinal);
                Assert.Contains("failmail_quarantined_messages_total 1\n", metrics, StringComparison.Ordinal);
                using var health = await http.GetAsync(new Uri("/healthz", UriKind.Relative)).WaitAsync(Patience);
                Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);

                // After a fix (here: the operator corrects the address in the file), resend puts it back.
                await File.WriteAllTextAsync(quarantined, text.Replace("<\"a\rb\"@y.test>", "<fixed@example.com>", StringComparison.Ordinal));
                var resend = await FailmailProcess.RunToExitAsync(run, "--spool-dir", Path.Combine(run, "spool"), "resend", "quarantine");
                Assert.True(resend.ExitCode == 0, resend.Stderr);
                Assert.Contains("put 1 quarantined message(s)", resend.Stdout, StringComparison.Ordinal);
                Assert.Empty(Directory.GetFiles(Path.Combine(run, "quarantine", "new")));
                await failmail.WaitUntilAsync(() => sink.Messages().Count >= 2, Patience, "the resent message's digest");
                var resent = Assert.Single(sink.Messages(), d => d.Recipients.SequenceEqual(["fixed@example.com"]));
                Assert.Equal("[failmail] 1 instance: poison", resent.Message.Subject);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
