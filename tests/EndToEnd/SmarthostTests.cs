using Failmail.Tests.Relay;
using MailKit.Net.Smtp;
using MimeKit;

namespace Failmail.Tests.EndToEnd;

// The AOT binary relaying to a TLS smarthost: TestSmtpServer on 127.0.0.1 with implicit TLS
// on a port that is not 465, a self-signed certificate accepted only through its pin, and
// AUTH narrowed to LOGIN with the password read from a file.
[Trait("Category", "EndToEnd")]
public sealed class SmarthostTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task DigestArrivesOverImplicitTlsOnANon465PortWithAPinnedCertificate()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            using var certificates = new TestCertificates();
            await using var relay = new TestSmtpServer(certificates.SelfSigned, "alerts", "s3cret pw", "PLAIN LOGIN", implicitTls: true);
            Assert.NotEqual(465, relay.Port);
            var passwordFile = Path.Combine(dir, "relay-password");
            await File.WriteAllTextAsync(passwordFile, "s3cret pw\n");

            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", $"smtps://127.0.0.1:{relay.Port}",
                "--relay-fingerprint", TestCertificates.Fingerprint(certificates.SelfSigned).ToLowerInvariant(),
                "--relay-user", "alerts", "--relay-password-file", passwordFile, "--relay-auth-mechanisms", "LOGIN",
                "--bind-http", "", "--wait-period", "500ms", "--max-wait", "10s", "--poll", "200ms", "--from", "failmail@test.example");

            await SendAlertAsync(failmail.SmtpPort);

            var mail = await relay.ReceiveAsync().WaitAsync(Patience);
            Assert.True(mail.Secure);
            Assert.Equal("alerts LOGIN", mail.AuthUser);
            Assert.Equal(0, relay.StartTlsCommands);
            Assert.Equal("failmail@test.example", mail.From);
            Assert.Equal(["ops@example.com"], mail.Recipients);
            var digest = MimeMessage.Load(new MemoryStream(mail.Data));
            Assert.Equal("[failmail] 1 instance: disk full", digest.Subject);
            Assert.Contains("/var is full", digest.TextBody, StringComparison.Ordinal);
            Assert.DoesNotContain("s3cret", failmail.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task AnUntrustedRelayIsNamedInTheLogAndTheDigestStaysQueuedUntilTheCaFileTrustsIt()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            using var certificates = new TestCertificates();
            await using var relay = new TestSmtpServer(certificates.Server);
            var run = Path.Combine(dir, "run");
            string[] common =
            [
                "--relay-addr", $"smtp://127.0.0.1:{relay.Port}", "--bind-http", "",
                "--wait-period", "200ms", "--max-wait", "10s", "--poll", "200ms", "--retry-min", "1h", "--retry-max", "1h",
            ];

            await using (var untrusting = await FailmailProcess.StartServingAsync(run, common))
            {
                await SendAlertAsync(untrusting.SmtpPort);
                await untrusting.WaitUntilAsync(() => untrusting.Stderr.Contains("relay unavailable: TLS with the relay failed: certificate untrusted (", StringComparison.Ordinal),
                    Patience, "the untrusted-certificate warning");
                Assert.Single(Directory.GetFiles(Path.Combine(run, "outgoing", "cur")));
                Assert.Empty(relay.Messages);
                untrusting.Signal(9);
                await untrusting.WaitForExitAsync(Patience);
            }

            // The next start loads the queue and, trusting the test CA, delivers it.
            await using var trusting = await FailmailProcess.StartServingAsync(run, [.. common, "--relay-ca-file", certificates.WriteCaFile(dir)]);
            var mail = await relay.ReceiveAsync().WaitAsync(Patience);
            Assert.True(mail.Secure);
            Assert.Equal("[failmail] 1 instance: disk full", MimeMessage.Load(new MemoryStream(mail.Data)).Subject);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task SendAlertAsync(int port)
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
        var alert = new MimeMessage();
        alert.From.Add(MailboxAddress.Parse("app@example.com"));
        alert.To.Add(MailboxAddress.Parse("ops@example.com"));
        alert.Subject = "disk full";
        alert.Body = new TextPart("plain") { Text = "/var is full\r\n" };
        await client.SendAsync(alert).WaitAsync(Patience);
        await client.DisconnectAsync(quit: true).WaitAsync(Patience);
    }

    [Theory]
    [InlineData("--relay-password-file", "{dir}/missing", "failmail: --relay-password-file {dir}/missing: no such file")]
    [InlineData("--relay-ca-file", "{dir}/missing.pem", "failmail: --relay-ca-file {dir}/missing.pem: no such file")]
    [InlineData("--relay-fingerprint", "12:34", "failmail: --relay-fingerprint: '12:34' is not a SHA-256 fingerprint")]
    [InlineData("--relay-addr", "smtpx://relay.example", "failmail: --relay-addr: relay address 'smtpx://relay.example': unknown scheme")]
    public async Task BadSmarthostSettingsAreOneLineStartUpErrors(string flag, string value, string expected)
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var (exit, _, stderr) = await FailmailProcess.RunToExitAsync(dir,
                "--bind-addr", "127.0.0.1:0", "--bind-http", "", "--relay-addr", "smtps://relay.example",
                "--relay-user", "alerts", flag, value.Replace("{dir}", dir, StringComparison.Ordinal));
            Assert.Equal(2, exit);
            var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("failmail: ", StringComparison.Ordinal));
            Assert.StartsWith(expected.Replace("{dir}", dir, StringComparison.Ordinal), line, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
