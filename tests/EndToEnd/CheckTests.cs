using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Failmail.Tests.Relay;

namespace Failmail.Tests.EndToEnd;

// `failmail check` through the AOT binary: a good configuration exits 0; a bad alias file, a
// missing certificate and a broken expression exit 2 with one line each; --connect reports a
// live TLS relay (our own test server, pinned); a sample .eml prints its batch and group keys.
[Trait("Category", "EndToEnd")]
public sealed class CheckTests
{
    [Fact]
    public async Task AGoodConfigurationExitsZeroAndABadOneNamesEachProblemOnItsOwnLine()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var certificate = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256)
                .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            var cert = Write(dir, "cert.pem", certificate.ExportCertificatePem());
            var keyFile = Write(dir, "key.pem", key.ExportPkcs8PrivateKeyPem());
            var aliases = Write(dir, "aliases", "root: ops@example.com\n");
            var canonical = Write(dir, "canonical", "cron alerts@example.com\n");
            var template = Path.Combine(TestPaths.RepoRoot, "tests", "fixtures", "digest.liquid");
            var good = Write(dir, "good.conf",
                $"aliases = {aliases}\nsender-canonical = {canonical}\ntls-cert = {cert}\ntls-key = {keyFile}\ntemplate = {template}\nrelay-addr = hub-a.example.com,hub-b.example.com\n");

            var ok = await FailmailProcess.RunToExitAsync(dir, "check", "--config", good);
            Assert.Equal("", ok.Stderr);
            Assert.Equal(0, ok.ExitCode);
            Assert.Equal("failmail check: no problems found\n", ok.Stdout);

            var badAliases = Write(dir, "bad-aliases", "root ops@example.com\n");
            var bad = Write(dir, "bad.conf",
                $"aliases = {badAliases}\ntls-cert = {Path.Combine(dir, "missing.pem")}\ntls-key = {keyFile}\ngroup-expr = {{{{.Header.Get \"Subject\"}}\n");
            var failed = await FailmailProcess.RunToExitAsync(dir, "check", "--config", bad);
            Assert.Equal(2, failed.ExitCode);
            var lines = failed.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length);
            Assert.StartsWith("failmail: --group-expr: ", lines[0], StringComparison.Ordinal);
            Assert.Equal($"failmail: --aliases: {badAliases}:1: expected \"name: target, ...\"", lines[1]);
            Assert.Equal($"failmail: --tls-cert {Path.Combine(dir, "missing.pem")} / --tls-key {keyFile}: cannot load the certificate and key: no such file", lines[2]);
            Assert.Equal("", failed.Stdout);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ConnectReportsALiveTlsRelayAndASampleMessageShowsItsKeys()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            using var certificates = new TestCertificates();
            await using var relay = new TestSmtpServer(certificates.SelfSigned);
            var message = Write(dir, "alert.eml",
                "From: nagios@web-3.example.com\r\nTo: ops@example.com\r\nSubject: CRITICAL: disk /var on web-3\r\nX-Failmail-Split: storage\r\n\r\n/var is 98% full\r\n");

            var run = await FailmailProcess.RunToExitAsync(dir, "--relay-addr", $"smtp://{relay.Address}",
                "--relay-fingerprint", TestCertificates.Fingerprint(certificates.SelfSigned), "check", "--connect", message);
            Assert.Equal("", run.Stderr);
            Assert.Equal(0, run.ExitCode);
            Assert.Contains($"relay smtp://{relay.Address}: connected\n", run.Stdout, StringComparison.Ordinal);
            Assert.Matches(@"\n  TLS: TLS 1\.[23], \w+ \(STARTTLS\)\n", run.Stdout);
            Assert.Contains("  certificate: subject CN=localhost (SAN localhost, 127.0.0.1), issuer CN=localhost, expires ", run.Stdout, StringComparison.Ordinal);
            Assert.Contains("  certificate check: matches the --relay-fingerprint pin\n", run.Stdout, StringComparison.Ordinal);
            Assert.Contains("  AUTH offered: none\n", run.Stdout, StringComparison.Ordinal);
            Assert.Contains("  batch key: \"storage\" ", run.Stdout, StringComparison.Ordinal);
            Assert.Contains("  group key: \"CRITICAL: disk /var on web-3\" ", run.Stdout, StringComparison.Ordinal);
            Assert.Contains($"  targets: SMTP relay smtp://{relay.Address}\n", run.Stdout, StringComparison.Ordinal);
            // Nothing was sent: the probe said EHLO, STARTTLS and QUIT.
            Assert.Equal(0, relay.RcptCommands);
            Assert.Equal(1, relay.StartTlsCommands);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Write(string dir, string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }
}
