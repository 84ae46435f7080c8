using System.Text.Json;
using Failmail.Tests.Relay;
using MailKit.Net.Smtp;

namespace Failmail.Tests.EndToEnd;

// Issue 15 through the AOT binary: `failmail ctl` against a running failmail, silences that
// survive kill -9, history that survives a restart, and the start-up rule for a non-loopback
// --bind-http.
[Trait("Category", "EndToEnd")]
public sealed class ConsoleCtlTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static async Task SendAsync(int port, string subject, string to = "ops@example.com")
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
        await client.SendAsync(PipelineTests.Alert(subject, "body of " + subject, to)).WaitAsync(Patience);
        await client.DisconnectAsync(quit: true).WaitAsync(Patience);
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> CtlAsync(string dir, FailmailProcess failmail, params string[] args) =>
        FailmailProcess.RunToExitAsync(dir, ["ctl", "--http", $"127.0.0.1:{failmail.HttpPort}", .. args]);

    [Fact]
    public async Task CtlSilencesSurviveKillNineAndSilencedMailStaysOutOfDigests()
    {
        var dir = TestPaths.NewTempDir();
        var run = Path.Combine(dir, "run");
        Directory.CreateDirectory(run);
        try
        {
            await using var relay = new TestSmtpServer();
            string[] args =
            [
                "--relay-addr", relay.Address, "--fail-dir", "failed", "--wait-period", "5m", "--max-wait", "10m", "--poll", "1s",
                "--from", "failmail@test.example",
            ];
            using var listener = LoopbackListener.Bind();
            var failmail = await FailmailProcess.StartServingOnAsync(listener, run, args);
            FailmailProcess? second = null;
            try
            {
                var added = await CtlAsync(dir, failmail, "silence", "add", "subject=~disk.*", "--duration", "2h", "--comment", "db maintenance");
                Assert.True(added.ExitCode == 0, added.Stderr);
                var id = added.Stdout.Trim();
                Assert.Matches("^[0-9a-f-]{36}$", id);

                failmail.Signal(Signals.Kill);
                await failmail.WaitForExitAsync(Patience);
                second = await FailmailProcess.StartServingOnAsync(listener, run, args);

                var listed = await CtlAsync(dir, second, "silence", "ls");
                Assert.Equal(0, listed.ExitCode);
                Assert.Contains(id, listed.Stdout, StringComparison.Ordinal);
                Assert.Contains("active", listed.Stdout, StringComparison.Ordinal);
                Assert.Contains("subject=~\"disk.*\"", listed.Stdout, StringComparison.Ordinal);

                await SendAsync(second.SmtpPort, "disk full on db1");
                await SendAsync(second.SmtpPort, "load high");
                await SendAsync(second.SmtpPort, "load high");

                var batches = await CtlAsync(dir, second, "-o", "json", "batches");
                Assert.Equal(0, batches.ExitCode);
                var open = JsonDocument.Parse(batches.Stdout).RootElement;
                var batch = Assert.Single(open.EnumerateArray());
                Assert.Equal(2, batch.GetProperty("count").GetInt32());
                var table = await CtlAsync(dir, second, "batches");
                Assert.Contains("2× load high", table.Stdout, StringComparison.Ordinal);

                var flushed = await CtlAsync(dir, second, "flush", batch.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
                Assert.True(flushed.ExitCode == 0, flushed.Stderr);
                var mail = await relay.ReceiveAsync().WaitAsync(Patience);
                Assert.Contains("load high", System.Text.Encoding.UTF8.GetString(mail.Data), StringComparison.Ordinal);
                Assert.DoesNotContain("disk full", System.Text.Encoding.UTF8.GetString(mail.Data), StringComparison.Ordinal);

                // The relayed outcome is recorded once the worker has sent it.
                var digests = "";
                for (var attempt = 0; attempt < 100 && !digests.Contains("relayed", StringComparison.Ordinal); attempt++)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100));
                    digests = (await CtlAsync(dir, second, "digests")).Stdout;
                }
                Assert.Contains("relayed", digests, StringComparison.Ordinal);
                Assert.Contains("silenced", digests, StringComparison.Ordinal);
                Assert.Contains("disk full on db1", digests, StringComparison.Ordinal);

                var json = JsonDocument.Parse((await CtlAsync(dir, second, "-o", "json", "digests")).Stdout).RootElement;
                var relayed = json.EnumerateArray().Single(d => d.GetProperty("outcome").GetString() == "relayed");
                var shown = await CtlAsync(dir, second, "show", relayed.GetProperty("id").GetString()!);
                Assert.Equal(0, shown.ExitCode);
                Assert.Contains("2 instances: load high", shown.Stdout, StringComparison.Ordinal);

                var expired = await CtlAsync(dir, second, "silence", "expire", id);
                Assert.Equal(0, expired.ExitCode);
                Assert.Contains("expired", (await CtlAsync(dir, second, "silence", "ls")).Stdout, StringComparison.Ordinal);

                // Errors: unknown id is 1 (the server said 404), bad usage is 2.
                var unknown = await CtlAsync(dir, second, "flush", "999999");
                Assert.Equal(1, unknown.ExitCode);
                Assert.Contains("404", unknown.Stderr, StringComparison.Ordinal);
                Assert.Equal(2, (await CtlAsync(dir, second, "silence", "add", "nonsense")).ExitCode);
                Assert.Equal(2, (await CtlAsync(dir, second, "-o", "yaml", "batches")).ExitCode);
                Assert.Equal(0, (await CtlAsync(dir, second, "queue")).ExitCode);
                Assert.Equal(0, (await CtlAsync(dir, second, "failed")).ExitCode);

                // History survives a restart.
                second.Signal(Signals.Term);
                await second.WaitForExitAsync(Patience);
                await second.DisposeAsync();
                second = await FailmailProcess.StartServingOnAsync(listener, run, args);
                Assert.Contains("silenced", (await CtlAsync(dir, second, "digests")).Stdout, StringComparison.Ordinal);
            }
            finally
            {
                await failmail.DisposeAsync();
                if (second is not null)
                {
                    await second.DisposeAsync();
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task AFailedDigestIsListedWithItsErrorAndCtlResendsIt()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var relay = new TestSmtpServer { RcptReply = "451 4.3.0 try again later" };
            var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", relay.Address, "--fail-dir", "failed", "--wait-period", "100ms", "--max-wait", "1s", "--poll", "200ms",
                "--retry-min", "30s", "--retry-max", "1m", "--from", "failmail@test.example");
            try
            {
                await SendAsync(failmail.SmtpPort, "disk full");

                // Deferred: in the queue with the relay's answer, and in the history as queued.
                var queue = "";
                for (var attempt = 0; attempt < 100 && !queue.Contains("try again later", StringComparison.Ordinal); attempt++)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100));
                    queue = (await CtlAsync(dir, failmail, "queue")).Stdout;
                }
                Assert.Contains("ops@example.com", queue, StringComparison.Ordinal);
                Assert.Contains("try again later", queue, StringComparison.Ordinal);
                Assert.Contains("queued: ", (await CtlAsync(dir, failmail, "digests")).Stdout, StringComparison.Ordinal);
            }
            finally
            {
                await failmail.DisposeAsync();
            }

            // Refused for good at the next start: to the fail-dir, listed by `ctl failed`.
            relay.RcptReply = "550 5.1.1 no such user";
            await using var second = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", relay.Address, "--fail-dir", "failed", "--wait-period", "100ms", "--max-wait", "1s", "--poll", "200ms",
                "--retry-min", "30s", "--retry-max", "1m", "--from", "failmail@test.example");
            JsonElement failed = default;
            for (var attempt = 0; attempt < 100; attempt++)
            {
                failed = JsonDocument.Parse((await CtlAsync(dir, second, "-o", "json", "failed")).Stdout).RootElement.Clone();
                if (failed.GetArrayLength() > 0)
                {
                    break;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(100));
            }
            var entry = Assert.Single(failed.EnumerateArray());
            Assert.Equal("[failmail] 1 instance: disk full", entry.GetProperty("subject").GetString());
            var digests = (await CtlAsync(dir, second, "digests")).Stdout;
            Assert.Contains("failed: ", digests, StringComparison.Ordinal);
            Assert.Contains("no such user", digests, StringComparison.Ordinal);

            relay.RcptReply = null;
            var resent = await CtlAsync(dir, second, "resend", entry.GetProperty("id").GetString()!);
            Assert.True(resent.ExitCode == 0, resent.Stderr);
            var mail = await relay.ReceiveAsync().WaitAsync(Patience);
            Assert.Contains("disk full", System.Text.Encoding.UTF8.GetString(mail.Data), StringComparison.Ordinal);
            Assert.Equal("[]", (await CtlAsync(dir, second, "-o", "json", "failed")).Stdout.Trim());
            Assert.Equal(1, (await CtlAsync(dir, second, "resend", entry.GetProperty("id").GetString()!)).ExitCode);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task OverTlsWithATokenCtlNeedsTheTokenAndTrustsTheDaemonsCertificate()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            using var certificate = new Failmail.Tests.Smtp.TestCertificate();
            var token = Path.Combine(dir, "token");
            await File.WriteAllTextAsync(token, "s3cret-token-0123456789\n");
            string[] tls = ["--http-tls-cert", certificate.CertPath, "--http-tls-key", certificate.KeyPath];
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                [.. tls, "--http-token-file", token, "--relay-addr", "127.0.0.1:1", "--fail-dir", "failed"]);

            var withToken = await FailmailProcess.RunToExitAsync(dir, [.. tls, "--http-token-file", token, "ctl", "--http", $"127.0.0.1:{failmail.HttpPort}", "silence", "ls"]);
            var without = await FailmailProcess.RunToExitAsync(dir, [.. tls, "ctl", "--http", $"127.0.0.1:{failmail.HttpPort}", "silence", "ls"]);

            Assert.True(withToken.ExitCode == 0, withToken.Stderr);
            Assert.StartsWith("ID", withToken.Stdout, StringComparison.Ordinal);
            Assert.Equal(1, without.ExitCode);
            Assert.Contains("401", without.Stderr, StringComparison.Ordinal);
            using var plain = new HttpClient();
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync(new Uri($"http://127.0.0.1:{failmail.HttpPort}/api/v1/silences")).WaitAsync(Patience));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ANonLoopbackHttpAddressWithoutATokenFileDoesNotStart()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var (code, _, stderr) = await FailmailProcess.RunToExitAsync(dir, "--bind-http", "0.0.0.0:0", "--relay-addr", "127.0.0.1:1");
            Assert.Equal(2, code);
            Assert.Contains("--http-token-file", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
