using System.Diagnostics;
using Failmail.Tests.Relay;
using MailKit.Net.Smtp;
using MimeKit;

namespace Failmail.Tests.EndToEnd;

// Issue 13's grouping, timing and pager through the AOT binary, with the tests' own relay:
// --group-normalize and --show-hosts in the default layout; --template with the new fields,
// --first-wait, --follow-up-interval and the --page-threshold notice.
[Trait("Category", "EndToEnd")]
public sealed class StormGroupingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static async Task SendAsync(int port, string ehlo, IEnumerable<int> numbers)
    {
        using var client = new SmtpClient { LocalDomain = ehlo };
        await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
        foreach (var i in numbers)
        {
            await client.SendAsync(PipelineTests.Alert($"disk {80 + i % 20}% full on web-{i % 30}", $"body {i}", "ops@example.com")).WaitAsync(Patience);
        }
        await client.DisconnectAsync(quit: true).WaitAsync(Patience);
    }

    private static string Text(TestSmtpServer.ReceivedMail mail)
    {
        using var stream = new MemoryStream(mail.Data);
        return (MimeMessage.Load(stream).TextBody ?? "").ReplaceLineEndings("\n");
    }

    private static string Subject(TestSmtpServer.ReceivedMail mail)
    {
        using var stream = new MemoryStream(mail.Data);
        return MimeMessage.Load(stream).Subject ?? "";
    }

    [Fact]
    public async Task ANormalisedStormIsOneGroupWithExamplesAndHosts()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var relay = new TestSmtpServer();
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", relay.Address, "--bind-http", "", "--group-normalize", "--show-hosts",
                "--wait-period", "1s", "--max-wait", "30s", "--poll", "10s", "--from", "failmail@test.example");
            await SendAsync(failmail.SmtpPort, "web-3.test", Enumerable.Range(0, 30));
            await SendAsync(failmail.SmtpPort, "web-7.test", Enumerable.Range(30, 30));

            var mail = await relay.ReceiveAsync().WaitAsync(Patience);
            Assert.Equal("[failmail] 60 instances: disk <num>% full on web-<num>", Subject(mail));
            var text = Text(mail);
            Assert.Contains("Total messages: 60\nUnique messages: 1\n", text, StringComparison.Ordinal);
            Assert.Contains("\n  Hosts: web-3.test (30), web-7.test (30)\n  e.g. 80%/web-0, 81%/web-1, 82%/web-2\n\nSubject: \"disk <num>% full on web-<num>\"\nBody:\nbody 59\n", text, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task TheTemplateFirstWaitFollowUpAndPagerWorkInTheBinary()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var relay = new TestSmtpServer();
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", relay.Address, "--bind-http", "", "--group-normalize",
                "--template", Path.Combine(TestPaths.RepoRoot, "tests", "fixtures", "storm.liquid"),
                "--wait-period", "5s", "--max-wait", "60s", "--poll", "10s",
                "--first-wait", "1s", "--follow-up-interval", "3s",
                "--page-threshold", "20", "--page-window", "60s", "--page-to", "pager@example.com",
                "--from", "failmail@test.example");
            var started = Stopwatch.StartNew();
            await SendAsync(failmail.SmtpPort, "db-1.test", Enumerable.Range(0, 30));

            // The notice first, at once, to --page-to.
            var page = await relay.ReceiveAsync().WaitAsync(Patience);
            Assert.Equal(["pager@example.com"], page.Recipients);
            Assert.Equal("[failmail] storm: 21 messages in 60 s, digest follows", Subject(page));

            // The first digest after --first-wait, long before the 5 s of quiet.
            var first = await relay.ReceiveAsync().WaitAsync(Patience);
            var firstAt = started.Elapsed;
            Assert.Equal(["ops@example.com"], first.Recipients);
            Assert.True(firstAt < TimeSpan.FromSeconds(4), $"{firstAt.TotalSeconds:F3} s");
            var text = Text(first);
            Assert.Matches(@"^\d+ alerts in 1 kinds\n\* disk <num>% full on web-<num>: \d+, e\.g\. 80%/web-0, 81%/web-1, 82%/web-2\n  hosts: db-1\.test \(\d+\) \n  first .+, last .+\n", text);
            var firstCount = int.Parse(text[..text.IndexOf(' ', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);

            // The rest (and one more) are a follow-up: it says so, and only one notice was sent.
            await SendAsync(failmail.SmtpPort, "db-2.test", [99]);
            var followUp = await relay.ReceiveAsync().WaitAsync(Patience);
            var followText = Text(followUp);
            var rest = 31 - firstCount;
            Assert.StartsWith($"still happening: {rest} more since the last digest\n{rest} alerts in 1 kinds\n", followText, StringComparison.Ordinal);
            Assert.Contains("db-2.test (1)", followText, StringComparison.Ordinal);
            Assert.Equal(3, relay.Messages.Count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
