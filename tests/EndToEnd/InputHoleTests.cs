using System.Net.Sockets;
using System.Text;

namespace Failmail.Tests.EndToEnd;

// Issue 11, "no single input can stop, stall or bloat the pipeline", through the AOT binary:
// an overlong line inside an AUTH exchange, AUTH before EHLO, and a malformed expression.
// Each is followed by an ordinary message that must still be accepted, digested and relayed
// to smtp-sink.
[Trait("Category", "EndToEnd")]
public sealed class InputHoleTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly string RightPlain = "AUTH PLAIN " + Convert.ToBase64String("\0alerts\0s3cret"u8.ToArray());

    private static Task<FailmailProcess> StartAsync(string dir, SmtpSink sink, params string[] extra) =>
        FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
        [
            "--relay-addr", sink.Address, "--bind-http", "", "--from", "failmail@test.example",
            "--wait-period", "1s", "--max-wait", "20s", "--poll", "200ms", .. extra,
        ]);

    [Fact]
    public async Task OverlongLineInsideAnAuthExchangeEndsItAndTheNextMessageIsRelayed()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            await using var failmail = await StartAsync(dir, sink, "--credentials", "alerts:s3cret", "--allow-unencrypted-auth");
            await using var client = await RawSmtpSession.ConnectAsync(failmail.SmtpPort);
            await client.ExpectAsync("EHLO test.example", "250");
            // 500 Line too long inside AUTH LOGIN, then inside an AUTH PLAIN continuation: each
            // ends its exchange, so the next line is a command, not a username.
            var overlong = new string('A', 4 * 512);
            await client.ExpectAsync("AUTH LOGIN", "334 VXNlcm5hbWU6");
            await client.ExpectAsync(overlong, "500 5.5.6 ");
            await client.ExpectAsync("NOOP", "250");
            await client.ExpectAsync("AUTH PLAIN", "334");
            await client.ExpectAsync(overlong, "500 5.5.6 ");
            await client.ExpectAsync(RightPlain, "235");
            await SendMessageAsync(client, "after-auth@example.com", "Subject: after an overlong AUTH line\r\n\r\nstill here\r\n");

            await failmail.WaitUntilAsync(() => sink.Messages().Count >= 1, Patience, "the digest at smtp-sink");
            var digest = Assert.Single(sink.Messages());
            Assert.Equal(["after-auth@example.com"], digest.Recipients);
            Assert.Equal("[failmail] 1 instance: after an overlong AUTH line", digest.Message.Subject);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task AuthBeforeEhloIs503AndTheNextMessageIsRelayed()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            await using var failmail = await StartAsync(dir, sink, "--credentials", "alerts:s3cret", "--allow-unencrypted-auth");
            await using var client = await RawSmtpSession.ConnectAsync(failmail.SmtpPort);
            await client.ExpectAsync(RightPlain, "503 5.5.1 ");
            await client.ExpectAsync("AUTH LOGIN", "503 5.5.1 ");
            await client.ExpectAsync("NOOP", "250");
            await client.ExpectAsync("EHLO test.example", "250");
            await client.ExpectAsync(RightPlain, "235");
            await SendMessageAsync(client, "after-ehlo@example.com", "Subject: AUTH after EHLO\r\n\r\nfine\r\n");

            await failmail.WaitUntilAsync(() => sink.Messages().Count >= 1, Patience, "the digest at smtp-sink");
            var digest = Assert.Single(sink.Messages());
            Assert.Equal(["after-ehlo@example.com"], digest.Recipients);
            Assert.Equal("[failmail] 1 instance: AUTH after EHLO", digest.Message.Subject);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task MalformedGroupExprExitsTwoAndTheCorrectedOneGroupsAndRelays()
    {
        const string Bad = "{{ headers[\"x\" }}";
        const string Expected = "failmail: --group-expr: syntax error at column 16: expected ']' to close '[' at column 11, found '}}'";
        var dir = TestPaths.NewTempDir();
        try
        {
            string[] listen = ["--bind-addr", "127.0.0.1:0", "--bind-http", ""];
            var (exit, _, stderr) = await FailmailProcess.RunToExitAsync(dir, ["--group-expr", Bad, .. listen]);
            Assert.True(exit == 2, $"exit {exit}; stderr:\n{stderr}");
            Assert.Equal([Expected], stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));

            var config = Path.Combine(dir, "bad.conf");
            await File.WriteAllTextAsync(config, $"group_expr = {Bad}\n");
            (exit, _, stderr) = await FailmailProcess.RunToExitAsync(dir, ["--config", config, .. listen]);
            Assert.True(exit == 2, $"exit {exit}; stderr:\n{stderr}");
            Assert.Equal([Expected], stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));

            var eml = Path.Combine(dir, "one.eml");
            await File.WriteAllTextAsync(eml, "To: ops@example.com\r\nSubject: disk full\r\n\r\nbody\r\n");
            (exit, _, stderr) = await FailmailProcess.RunToExitAsync(dir, "--group-expr", Bad, "preview", eml);
            Assert.Equal(2, exit);
            Assert.Equal(["failmail: preview: " + Expected["failmail: ".Length..]], stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));

            // The corrected expression: two subjects, one X header, so one group of two.
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            // A quiet period long enough that the two messages always share a batch.
            await using var failmail = await StartAsync(dir, sink, "--group-expr", "{{ headers[\"x\"] }}", "--wait-period", "5s");
            await using var client = await RawSmtpSession.ConnectAsync(failmail.SmtpPort);
            await client.ExpectAsync("EHLO test.example", "250");
            await SendMessageAsync(client, "ops@example.com", "X: db\r\nSubject: disk full on db1\r\n\r\none\r\n");
            await SendMessageAsync(client, "ops@example.com", "X: db\r\nSubject: disk full on db2\r\n\r\ntwo\r\n");

            await failmail.WaitUntilAsync(() => sink.Messages().Count >= 1, Patience, "the digest at smtp-sink");
            var digest = Assert.Single(sink.Messages());
            Assert.StartsWith("[failmail] 2 instances", digest.Message.Subject, StringComparison.Ordinal);
            Assert.Contains("Unique messages: 1", digest.Message.TextBody, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // A raw socket client, so the bytes (and the order of lines) are exactly ours.

    private static async Task SendMessageAsync(RawSmtpSession client, string recipient, string message)
    {
        await client.ExpectAsync("MAIL FROM:<app@example.com>", "250");
        await client.ExpectAsync($"RCPT TO:<{recipient}>", "250");
        Assert.StartsWith("250", await client.DataAsync(message), StringComparison.Ordinal);
    }
}
