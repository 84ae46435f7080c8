using MailKit.Net.Smtp;

namespace Failmail.Tests.EndToEnd;

// `failmail resend` through the AOT binary: the relay is down, the digest lands in the
// fail-dir; once the relay (smtp-sink) is up, resend queues it and the running daemon relays
// it exactly once; a second resend queues nothing.
[Trait("Category", "EndToEnd")]
public sealed class ResendTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task FailedDigestIsDeliveredOnceAfterResend()
    {
        var dir = TestPaths.NewTempDir();
        var run = Path.Combine(dir, "run");
        try
        {
            using var deadPort = new RefusedPort();
            await using (var down = await FailmailProcess.StartServingAsync(run,
                "--relay-addr", deadPort.Address, "--bind-http", "", "--from", "failmail@test.example",
                "--wait-period", "300ms", "--max-wait", "5s", "--poll", "200ms",
                "--retry-min", "200ms", "--retry-max", "500ms", "--queue-lifetime", "2s"))
            {
                using (var client = new SmtpClient())
                {
                    await client.ConnectAsync("127.0.0.1", down.SmtpPort, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
                    await client.SendAsync(PipelineTests.Alert("disk full", "/var is full", "ops@example.com")).WaitAsync(Patience);
                    await client.DisconnectAsync(quit: true).WaitAsync(Patience);
                }
                var failNew = Path.Combine(run, "failed", "new");
                await down.WaitUntilAsync(() => Directory.Exists(failNew) && Directory.GetFiles(failNew).Length == 1,
                    Patience, "the digest in the fail-dir");
                down.Signal(Signals.Term);
                Assert.Equal(0, await down.WaitForExitAsync(Patience));
            }

            // The relay is back; failmail runs again (its queue is empty, the digest is in failed/).
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            await using var up = await FailmailProcess.StartServingAsync(run,
                "--relay-addr", $"127.0.0.1:{sink.Port}", "--bind-http", "", "--from", "failmail@test.example",
                "--wait-period", "300ms", "--max-wait", "5s", "--poll", "200ms");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            Assert.Empty(sink.Messages());

            var (exit, stdout, stderr) = await FailmailProcess.RunToExitAsync(run, "--from", "failmail@test.example", "resend", "failed");
            Assert.True(exit == 0, stderr);
            Assert.Contains("queued 1 message(s)", stdout, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(Path.Combine(run, "failed", "new")));

            // The running daemon finds it at its next poll and relays it.
            await up.WaitUntilAsync(() => sink.Messages().Count >= 1, Patience, "the resent digest at smtp-sink");
            var delivered = Assert.Single(sink.Messages());
            Assert.Equal("failmail@test.example", delivered.MailFrom);
            Assert.Equal(["ops@example.com"], delivered.Recipients);
            Assert.Equal("[failmail] 1 instance: disk full", delivered.Message.Subject);
            Assert.Contains("/var is full", delivered.Message.TextBody, StringComparison.Ordinal);

            var (exit2, stdout2, stderr2) = await FailmailProcess.RunToExitAsync(run, "resend", "failed");
            Assert.True(exit2 == 0, stderr2);
            Assert.Contains("queued 0 message(s)", stdout2, StringComparison.Ordinal);
            // Several polls later: still exactly one delivery, and the queue is empty.
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Single(sink.Messages());
            Assert.Empty(Directory.GetFiles(Path.Combine(run, "outgoing", "cur")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
