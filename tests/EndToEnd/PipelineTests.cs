using MailKit.Net.Smtp;
using MimeKit;

namespace Failmail.Tests.EndToEnd;

// The whole pipeline through the AOT binary: MailKit submits, failmail batches, and Postfix's
// smtp-sink on 127.0.0.1 is the upstream relay whose dumps are checked.
[Trait("Category", "EndToEnd")]
public sealed class PipelineTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task DigestsArrivePerRecipientAndSplitKeyWithExactCounts()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", $"127.0.0.1:{sink.Port}", "--bind-http", "",
                "--wait-period", "1s", "--max-wait", "20s", "--poll", "200ms", "--from", "failmail@test.example");

            using (var client = new SmtpClient())
            {
                await client.ConnectAsync("127.0.0.1", failmail.SmtpPort, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
                for (var i = 0; i < 5; i++)
                {
                    await client.SendAsync(Alert("disk full", $"disk body {i}", "ops@example.com")).WaitAsync(Patience);
                }
                for (var i = 0; i < 2; i++)
                {
                    await client.SendAsync(Alert("load high", $"load body {i}", "ops@example.com", "dev@example.com")).WaitAsync(Patience);
                }
                await client.SendAsync(Alert("db down", "db body", "ops@example.com", split: "db")).WaitAsync(Patience);
                await client.DisconnectAsync(quit: true).WaitAsync(Patience);
            }

            await failmail.WaitUntilAsync(() => sink.Messages().Count >= 3, Patience, "three digests at smtp-sink");
            // One quiet period more: nothing else may arrive.
            await Task.Delay(TimeSpan.FromSeconds(2));
            var digests = sink.Messages();
            Assert.Equal(3, digests.Count);

            var opsMain = Assert.Single(digests, d => d.Recipients.SequenceEqual(["ops@example.com"]) && (d.Message.Subject ?? "").Contains("of 2 messages", StringComparison.Ordinal));
            Assert.Equal("[failmail] 7 instances of 2 messages", opsMain.Message.Subject);
            Assert.Equal("failmail@test.example", opsMain.MailFrom);
            Assert.Equal("1", opsMain.Message.Headers["X-Failmail-Digest"]);
            Assert.NotNull(opsMain.Message.MessageId);
            var opsText = opsMain.Message.TextBody;
            Assert.Contains("Total messages: 7", opsText, StringComparison.Ordinal);
            Assert.Contains("Message group 1 of 2: 5 instances", opsText, StringComparison.Ordinal);
            Assert.Contains("Message group 2 of 2: 2 instances", opsText, StringComparison.Ordinal);
            Assert.Contains("disk body 4", opsText, StringComparison.Ordinal);

            var opsDb = Assert.Single(digests, d => d.Recipients.SequenceEqual(["ops@example.com"]) && d != opsMain);
            Assert.Equal("[failmail] 1 instance: db down", opsDb.Message.Subject);

            // dev@ only ever sees the mail addressed to dev@.
            var dev = Assert.Single(digests, d => d.Recipients.SequenceEqual(["dev@example.com"]));
            Assert.Equal("[failmail] 2 instances: load high", dev.Message.Subject);
            Assert.DoesNotContain("disk", dev.Message.TextBody, StringComparison.Ordinal);

            // Every source message left the incoming store once its digests were out.
            await failmail.WaitUntilAsync(() => IncomingStore.Pending(Path.Combine(dir, "run", "incoming")) == 0,
                Patience, "the incoming store to empty");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task RelayDownSendsDigestsToTheFailDirOnceAndLosesNothing()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            // Nothing listens on this port: every relay attempt is refused.
            using var deadPort = new RefusedPort();
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", deadPort.Address, "--bind-http", "",
                "--wait-period", "500ms", "--max-wait", "5s", "--poll", "200ms",
                "--retry-min", "200ms", "--retry-max", "500ms", "--queue-lifetime", "3s");

            using (var client = new SmtpClient())
            {
                await client.ConnectAsync("127.0.0.1", failmail.SmtpPort, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
                await client.SendAsync(Alert("relay test", "one", "ops@example.com")).WaitAsync(Patience);
                await client.SendAsync(Alert("relay test", "two", "dev@example.com")).WaitAsync(Patience);
                await client.DisconnectAsync(quit: true).WaitAsync(Patience);
            }

            var failNew = Path.Combine(dir, "run", "failed", "new");
            await failmail.WaitUntilAsync(() => Directory.Exists(failNew) && Directory.GetFiles(failNew).Length >= 2,
                Patience, "two digests in the fail-dir");
            await Task.Delay(TimeSpan.FromSeconds(2));
            var failed = Directory.GetFiles(failNew).Select(path => MimeMessage.Load(path)).ToList();
            Assert.Equal(2, failed.Count);
            Assert.Contains(failed, m => m.To.Mailboxes.Single().Address == "ops@example.com" && (m.TextBody ?? "").Contains("one", StringComparison.Ordinal));
            Assert.Contains(failed, m => m.To.Mailboxes.Single().Address == "dev@example.com" && (m.TextBody ?? "").Contains("two", StringComparison.Ordinal));
            Assert.Empty(Directory.GetFiles(Path.Combine(dir, "run", "failed", "tmp")));
            Assert.Empty(Directory.GetFiles(Path.Combine(dir, "run", "outgoing", "cur")));
            Assert.Contains("fail-dir", failmail.Stderr, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task SigtermSendsEveryPendingBatchBeforeExiting()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            // Batches would wait an hour; only the shutdown flush can send them.
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", $"127.0.0.1:{sink.Port}", "--bind-http", "",
                "--wait-period", "1h", "--max-wait", "2h", "--poll", "200ms");

            using (var client = new SmtpClient())
            {
                await client.ConnectAsync("127.0.0.1", failmail.SmtpPort, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
                await client.SendAsync(Alert("pending one", "a", "ops@example.com")).WaitAsync(Patience);
                await client.SendAsync(Alert("pending two", "b", "ops@example.com")).WaitAsync(Patience);
                await client.DisconnectAsync(quit: true).WaitAsync(Patience);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            Assert.Empty(sink.Messages());

            failmail.Signal(Signals.Term);
            Assert.Equal(0, await failmail.WaitForExitAsync(Patience));
            var digest = Assert.Single(sink.Messages());
            Assert.Equal("[failmail] 2 instances of 2 messages", digest.Message.Subject);
            Assert.Equal(0, IncomingStore.Pending(Path.Combine(dir, "run", "incoming")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ReceiverAndSenderRunAsTwoProcessesSharingTheStore()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            var run = Path.Combine(dir, "run");
            await using var receiver = await FailmailProcess.StartServingAsync(run, "--receiver", "--bind-http", "");
            using (var client = new SmtpClient())
            {
                await client.ConnectAsync("127.0.0.1", receiver.SmtpPort, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
                await client.SendAsync(Alert("split mode", "a", "ops@example.com")).WaitAsync(Patience);
                await client.SendAsync(Alert("split mode", "b", "ops@example.com")).WaitAsync(Patience);
                await client.DisconnectAsync(quit: true).WaitAsync(Patience);
            }
            // The receiver alone stores and never sends.
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            Assert.Equal(2, IncomingStore.Pending(Path.Combine(run, "incoming")));
            Assert.Empty(sink.Messages());

            await using var sender = FailmailProcess.Launch(run, "--sender", "--bind-http", "", "--relay-addr", sink.Address,
                "--wait-period", "300ms", "--max-wait", "5s", "--poll", "100ms");
            await sender.WaitUntilAsync(() => sink.Messages().Count == 1, Patience, "the sender's digest");
            Assert.Equal("[failmail] 2 instances: split mode", sink.Messages()[0].Message.Subject);
            await sender.WaitUntilAsync(() => IncomingStore.Pending(Path.Combine(run, "incoming")) == 0,
                Patience, "the store to empty");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    internal static MimeMessage Alert(string subject, string body, string to, string? cc = null, string? split = null)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("app@example.com"));
        message.To.Add(MailboxAddress.Parse(to));
        if (cc is not null)
        {
            message.Cc.Add(MailboxAddress.Parse(cc));
        }
        message.Subject = subject;
        if (split is not null)
        {
            message.Headers.Add("X-Failmail-Split", split);
        }
        message.Body = new TextPart("plain") { Text = body + "\n" };
        return message;
    }
}
