using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Failmail.Tests.Relay;
using MailKit.Net.Smtp;
using MimeKit;

namespace Failmail.Tests.EndToEnd;

// Issue 13 through the AOT binary: a storm is one digest per recipient, bounded by the
// relay's SIZE, and a digest leaves at its deadline whatever --poll is. The relay is the
// tests' own SMTP server (it advertises SIZE; smtp-sink cannot).
[Trait("Category", "EndToEnd")]
public sealed class StormTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task TwentyThousandMessagesOverAThousandSubjectsAreOneDigestWithinTheRelaysSize()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var relay = new TestSmtpServer { MaxSize = 1_000_000 };
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", relay.Address, "--bind-http", "", "--fail-dir", Path.Combine(dir, "failed"),
                "--wait-period", "3s", "--max-wait", "120s", "--poll", "10s", "--max-digest-groups", "1000",
                "--from", "failmail@test.example");

            // 2 KB bodies: 1,000 groups in full would be 2 MB, over the relay's 1,000,000.
            var body = new string('x', 2000);
            const int Sessions = 4;
            await Task.WhenAll(Enumerable.Range(0, Sessions).Select(async session =>
            {
                using var client = new SmtpClient();
                await client.ConnectAsync("127.0.0.1", failmail.SmtpPort, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
                for (var i = session; i < 20_000; i += Sessions)
                {
                    await client.SendAsync(PipelineTests.Alert($"alert {i % 1000}", body, "ops@example.com")).WaitAsync(Patience);
                }
                await client.DisconnectAsync(quit: true).WaitAsync(Patience);
            }));

            var mail = await relay.ReceiveAsync().WaitAsync(Patience);
            // One quiet period more: nothing else may arrive.
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.Single(relay.Messages);
            Assert.True(mail.Data.Length <= 1_000_000, $"{mail.Data.Length} bytes");
            using var stream = new MemoryStream(mail.Data);
            var digest = await MimeMessage.LoadAsync(stream);
            Assert.Equal("[failmail] 20000 instances of 1000 messages", digest.Subject);
            var text = digest.TextBody ?? "";
            Assert.Contains("Total messages: 20000", text, StringComparison.Ordinal);
            Assert.Contains("Unique messages: 1000", text, StringComparison.Ordinal);
            var listed = Regex.Matches(text, @"^- Message group \d+ of 1000: (\d+) instances?", RegexOptions.Multiline);
            var more = Regex.Match(text, @"^and (\d+) more groups? \((\d+) messages?\)", RegexOptions.Multiline);
            var summedGroups = more.Success ? int.Parse(more.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            var summedMessages = more.Success ? int.Parse(more.Groups[2].Value, CultureInfo.InvariantCulture) : 0;
            Assert.Equal(1000, listed.Count + summedGroups);
            Assert.Equal(20_000, listed.Sum(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)) + summedMessages);
            Assert.All(listed, m => Assert.Equal("20", m.Groups[1].Value));

            Assert.False(Directory.Exists(Path.Combine(dir, "failed", "new")) && Directory.EnumerateFiles(Path.Combine(dir, "failed", "new")).Any(),
                "nothing may reach the fail-dir");
            await failmail.WaitUntilAsync(() => IncomingStore.Pending(Path.Combine(dir, "run", "incoming")) == 0,
                Patience, "the incoming store to empty");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ADigestLeavesAtItsDeadlineNotAtThePoll()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var relay = new TestSmtpServer();
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", relay.Address, "--bind-http", "",
                "--wait-period", "2s", "--poll", "10s", "--from", "failmail@test.example");
            using var client = new SmtpClient();
            await client.ConnectAsync("127.0.0.1", failmail.SmtpPort, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
            var sent = Stopwatch.StartNew();
            await client.SendAsync(PipelineTests.Alert("disk full", "disk body", "ops@example.com")).WaitAsync(Patience);
            var accepted = sent.Elapsed;
            await relay.ReceiveAsync().WaitAsync(Patience);
            var arrived = sent.Elapsed;
            await client.DisconnectAsync(quit: true).WaitAsync(Patience);
            // The deadline runs from the message's receive time, between the start and the end
            // of its SMTP transaction.
            Assert.True(arrived >= TimeSpan.FromSeconds(2), $"{arrived.TotalSeconds:F3} s");
            Assert.True(arrived - accepted <= TimeSpan.FromSeconds(2.3), $"{(arrived - accepted).TotalSeconds:F3} s after the 250");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
