using Failmail.Tests.Relay;
using MailKit.Net.Smtp;
using MimeKit;

namespace Failmail.Tests.EndToEnd;

// Issue 16's hub and spokes through the AOT binary: two spokes with --digest-json relay their
// digests to a hub with --merge-digests, which sends one digest with the counts summed and the
// hosts of both spokes to the tests' relay.
[Trait("Category", "EndToEnd")]
public sealed class HubMergeTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static async Task SendAsync(int port, string ehlo, string subject, int count)
    {
        using var client = new SmtpClient { LocalDomain = ehlo };
        await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
        for (var i = 0; i < count; i++)
        {
            await client.SendAsync(PipelineTests.Alert(subject, $"body {i}", "ops@example.com")).WaitAsync(Patience);
        }
        await client.DisconnectAsync(quit: true).WaitAsync(Patience);
    }

    [Fact]
    public async Task TwoSpokesDigestsBecomeOneDigestAtTheHubWithSummedCountsAndBothHosts()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var relay = new TestSmtpServer();
            // The hub waits for quiet longer than the spokes take to send their digests.
            await using var hub = await FailmailProcess.StartServingAsync(Path.Combine(dir, "hub"),
                "--relay-addr", relay.Address, "--bind-http", "", "--merge-digests", "--show-hosts",
                "--wait-period", "3s", "--max-wait", "60s", "--from", "failmail@hub.test");
            string[] spoke = ["--relay-addr", $"127.0.0.1:{hub.SmtpPort}", "--bind-http", "", "--digest-json",
                "--wait-period", "500ms", "--max-wait", "30s"];
            await using var spoke1 = await FailmailProcess.StartServingAsync(Path.Combine(dir, "spoke1"), [.. spoke, "--from", "failmail@spoke1.test"]);
            await using var spoke2 = await FailmailProcess.StartServingAsync(Path.Combine(dir, "spoke2"), [.. spoke, "--from", "failmail@spoke2.test"]);

            await SendAsync(spoke1.SmtpPort, "web-1.test", "disk full", 30);
            await SendAsync(spoke2.SmtpPort, "web-2.test", "disk full", 20);
            await SendAsync(spoke2.SmtpPort, "web-2.test", "cpu high", 5);

            var mail = await relay.ReceiveAsync().WaitAsync(Patience);
            using var stream = new MemoryStream(mail.Data);
            var digest = MimeMessage.Load(stream);
            Assert.Equal(["ops@example.com"], mail.Recipients);
            Assert.Equal("[failmail] 55 instances of 2 messages", digest.Subject);
            var text = (digest.TextBody ?? "").ReplaceLineEndings("\n");
            Assert.Contains("Total messages: 55\nUnique messages: 2\n", text, StringComparison.Ordinal);
            Assert.Contains("50 instances", text, StringComparison.Ordinal);
            Assert.Contains("Hosts: web-1.test (30), web-2.test (20)", text, StringComparison.Ordinal);
            Assert.Contains("Subject: \"disk full\"", text, StringComparison.Ordinal);
            // One digest only: nothing else arrives while the hub's quiet period passes again.
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.Single(relay.Messages);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
