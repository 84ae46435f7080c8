using MailKit.Net.Smtp;

namespace Failmail.Tests.EndToEnd;

// --relay-addr as a failover list through the AOT binary: the first relay is down (a bound,
// never listening RefusedPort), the second is smtp-sink; the digest arrives there, nothing
// goes to the fail-dir, and /metrics and the log show each relay's state.
[Trait("Category", "EndToEnd")]
public sealed class RelayFailoverTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ADeadFirstRelayIsSkippedAndTheDigestArrivesAtTheSecond()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            using var dead = new RefusedPort();
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", $"{dead.Address},smtp://{sink.Address}", "--bind-http", "127.0.0.1:0",
                "--wait-period", "300ms", "--max-wait", "5s", "--poll", "200ms", "--retry-min", "1m", "--from", "failmail@test.example");

            using (var client = new SmtpClient())
            {
                await client.ConnectAsync("127.0.0.1", failmail.SmtpPort, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
                await client.SendAsync(PipelineTests.Alert("disk full", "first", "ops@example.com")).WaitAsync(Patience);
                await client.DisconnectAsync(quit: true).WaitAsync(Patience);
            }
            await failmail.WaitUntilAsync(() => sink.Messages().Count >= 1, Patience, "the digest at the second relay");
            var digest = Assert.Single(sink.Messages());
            Assert.Equal(["ops@example.com"], digest.Recipients);
            Assert.Contains("first", digest.Message.TextBody, StringComparison.Ordinal);
            Assert.Contains($"relay smtp://{dead.Address} unavailable: relay connection failed: connection refused; skipped until ", failmail.Stderr, StringComparison.Ordinal);
            Assert.Contains($"trying smtp://{sink.Address}", failmail.Stderr, StringComparison.Ordinal);
            // smtp-sink has the digest before failmail has read the relay's 250 and logged it.
            await failmail.WaitUntilAsync(() => failmail.Stderr.Contains($"via smtp://{sink.Address}", StringComparison.Ordinal), Patience, "the sent line naming the second relay");

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{failmail.HttpPort}") };
            var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)).WaitAsync(Patience);
            Assert.Contains($"failmail_relay_unavailable_total{{relay=\"smtp://{dead.Address}\"}} 1\n", metrics, StringComparison.Ordinal);
            Assert.Contains($"failmail_relay_up{{relay=\"smtp://{dead.Address}\"}} 0\n", metrics, StringComparison.Ordinal);
            Assert.Contains($"failmail_relay_sent_total{{relay=\"smtp://{sink.Address}\"}} 1\n", metrics, StringComparison.Ordinal);
            Assert.Contains($"failmail_relay_up{{relay=\"smtp://{sink.Address}\"}} 1\n", metrics, StringComparison.Ordinal);

            // A second digest within the dead relay's minute goes straight to the second.
            using (var client = new SmtpClient())
            {
                await client.ConnectAsync("127.0.0.1", failmail.SmtpPort, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
                await client.SendAsync(PipelineTests.Alert("load high", "second", "ops@example.com")).WaitAsync(Patience);
                await client.DisconnectAsync(quit: true).WaitAsync(Patience);
            }
            await failmail.WaitUntilAsync(() => sink.Messages().Count >= 2, Patience, "the second digest at the second relay");
            metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)).WaitAsync(Patience);
            Assert.Contains($"failmail_relay_attempts_total{{relay=\"smtp://{dead.Address}\"}} 1\n", metrics, StringComparison.Ordinal);
            Assert.Contains($"failmail_relay_sent_total{{relay=\"smtp://{sink.Address}\"}} 2\n", metrics, StringComparison.Ordinal);

            var failNew = Path.Combine(dir, "run", "failed", "new");
            Assert.True(!Directory.Exists(failNew) || Directory.GetFiles(failNew).Length == 0);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
