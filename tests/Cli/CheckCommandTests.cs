using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Failmail.Tests.EndToEnd;
using Failmail.Tests.Relay;
using static Failmail.Tests.Cli.FailmailCommandKit;

namespace Failmail.Tests.Cli;

// `failmail check`: every setting and file through the daemon's own loaders, one line per
// problem and exit 2; --connect against a real TLS test server; a sample message routed
// through the daemon's intake and key evaluator.
public sealed class CheckCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task AGoodConfigurationExitsZero()
    {
        var (cert, key) = WritePem("good", DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var aliases = WriteFile(_dir.Path, "aliases", "root: ops@example.com, dba\n");
        var canonical = WriteFile(_dir.Path, "canonical", "cron alerts@example.com\n");
        var config = WriteFile(_dir.Path, "failmail.conf",
            $"aliases = {aliases}\nsender-canonical = {canonical}\ntls-cert = {cert}\ntls-key = {key}\nmasquerade-domains = example.com\n");

        var outcome = await InvokeAsync("check", "--config", config);
        Assert.Equal("", outcome.Error);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal("failmail check: no problems found\n", outcome.Output.ReplaceLineEndings("\n"));
        Assert.Null(outcome.Options); // nothing was started
    }

    [Fact]
    public async Task EveryProblemIsOneLineAndTheExitStatusIsTwo()
    {
        var aliases = WriteFile(_dir.Path, "aliases", "root: ops@example.com\nbad line without a colon\n");
        var canonical = WriteFile(_dir.Path, "canonical", "  continuation first\n");
        var (cert, _) = WritePem("a", DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var (_, otherKey) = WritePem("b", DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        var outcome = await InvokeAsync("--aliases", aliases, "--sender-canonical", canonical, "--tls-cert", cert, "--tls-key", otherKey,
            "--group-expr", "{{.Header.Get \"Subject\"", "--relay-ca-file", Path.Combine(_dir.Path, "missing-ca.pem"), "check");
        Assert.Equal(2, outcome.ExitCode);
        var lines = outcome.ErrorLines;
        Assert.Equal(5, lines.Length);
        Assert.StartsWith("failmail: --group-expr: ", lines[0], StringComparison.Ordinal);
        Assert.Equal($"failmail: --aliases: {aliases}:2: expected \"name: target, ...\"", lines[1]);
        Assert.Equal($"failmail: --sender-canonical: {canonical}:1: continuation line without an entry before it", lines[2]);
        Assert.StartsWith($"failmail: --tls-cert {cert} / --tls-key {otherKey}: cannot load the certificate and key: ", lines[3], StringComparison.Ordinal);
        Assert.StartsWith("failmail: --relay-ca-file", lines[4], StringComparison.Ordinal);
        Assert.DoesNotContain("no problems", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnExpiredCertificateAndAMissingDirectoryParentAreProblems()
    {
        var (cert, key) = WritePem("old", DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(-1));
        var outcome = await InvokeAsync("--tls-cert", cert, "--tls-key", key, "--fail-dir", Path.Combine(_dir.Path, "no", "such", "failed"), "check");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal(2, outcome.ErrorLines.Length);
        Assert.StartsWith($"failmail: --tls-cert {cert}: the certificate expired on ", outcome.ErrorLines[0], StringComparison.Ordinal);
        Assert.Equal($"failmail: --fail-dir: {Path.Combine(_dir.Path, "no", "such", "failed")}: neither it nor its parent directory {Path.Combine(_dir.Path, "no", "such")} exists",
            outcome.ErrorLines[1]);
    }

    [Fact]
    public async Task ConnectReportsTlsTheCertificateAndAuthOfEachRelay()
    {
        using var certificates = new TestCertificates();
        await using var relay = new TestSmtpServer(certificates.SelfSigned, user: "spoke", password: "s3cret", authMechanisms: "PLAIN LOGIN");
        using var dead = new RefusedPort();
        var password = WriteFile(_dir.Path, "password", "s3cret\n");

        var outcome = await InvokeAsync("--relay-addr", $"smtp://{relay.Address},{dead.Address}",
            "--relay-fingerprint", TestCertificates.Fingerprint(certificates.SelfSigned), "--relay-user", "spoke", "--relay-password-file", password,
            "--relay-timeout", "5s", "check", "--connect");

        var output = outcome.Output.ReplaceLineEndings("\n");
        Assert.Contains($"relay smtp://{relay.Address}: connected\n", output, StringComparison.Ordinal);
        Assert.Matches(@"  TLS: TLS 1\.[23], \w+ \(STARTTLS\)\n", output);
        Assert.Contains("  certificate: subject CN=localhost (SAN localhost, 127.0.0.1), issuer CN=localhost, expires ", output, StringComparison.Ordinal);
        Assert.Contains($"SHA-256 {TestCertificates.Fingerprint(certificates.SelfSigned).Replace(":", "", StringComparison.Ordinal)}\n", output, StringComparison.Ordinal);
        Assert.Contains("  certificate check: matches the --relay-fingerprint pin\n", output, StringComparison.Ordinal);
        Assert.Contains("  AUTH offered: PLAIN LOGIN\n", output, StringComparison.Ordinal);
        Assert.Contains("  AUTH as spoke: accepted\n", output, StringComparison.Ordinal);
        Assert.Contains($"relay smtp://{dead.Address}: FAILED\n", output, StringComparison.Ordinal);
        Assert.Equal($"failmail: --relay-addr smtp://{dead.Address}: relay connection failed: connection refused", Assert.Single(outcome.ErrorLines));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal(0, relay.AuthFailures);
        Assert.Equal(0, relay.RcptCommands);
    }

    [Fact]
    public async Task ConnectReportsAnUntrustedCertificateWithWhatItShowed()
    {
        using var certificates = new TestCertificates();
        await using var relay = new TestSmtpServer(certificates.SelfSigned);
        var outcome = await InvokeAsync("--relay-addr", $"smtp+starttls://{relay.Address}", "check", "--connect");
        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith($"failmail: --relay-addr smtp+starttls://{relay.Address}: TLS with the relay failed: certificate untrusted (", Assert.Single(outcome.ErrorLines), StringComparison.Ordinal);
        Assert.Contains("  certificate: subject CN=localhost", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASampleMessageShowsItsRewrittenEnvelopeHeadersKeysAndTargets()
    {
        var aliases = WriteFile(_dir.Path, "aliases", "root: ops@example.com, dba\n");
        var message = WriteFile(_dir.Path, "cron.eml",
            "From: Cron Daemon <cron@web-3.example.com>\r\nTo: root\r\nSubject: disk full on web-3\r\nX-Failmail-Split: db\r\n\r\n/var is 98% full\r\n");
        var outcome = await InvokeAsync("--aliases", aliases, "--qualify-domain", "web-3.example.com", "--masquerade-domains", "example.com",
            "--from", "failmail@web-3.example.com", "--relay-addr", "hub-a.example.com,smtps://hub-b.example.com", "check", message);

        Assert.Equal("", outcome.Error);
        Assert.Equal(0, outcome.ExitCode);
        var output = outcome.Output.ReplaceLineEndings("\n");
        Assert.Contains("  envelope sender: <cron@web-3.example.com> -> <cron@example.com>\n", output, StringComparison.Ordinal);
        Assert.Contains("  envelope recipients: <root> -> <dba@example.com>, <ops@example.com>\n", output, StringComparison.Ordinal);
        Assert.Contains("  header From: Cron Daemon <cron@example.com> (was: Cron Daemon <cron@web-3.example.com>)\n", output, StringComparison.Ordinal);
        Assert.Contains("  header To: root@example.com (was: root)\n", output, StringComparison.Ordinal);
        Assert.Contains("  batch key: \"db\" (--batch-expr {{.Header.Get \"X-Failmail-Split\"}})\n", output, StringComparison.Ordinal);
        Assert.Contains("  group key: \"disk full on web-3\" (--group-expr {{.Header.Get \"Subject\"}})\n", output, StringComparison.Ordinal);
        Assert.Contains("  digests: one per recipient: dba@example.com, ops@example.com; ", output, StringComparison.Ordinal);
        Assert.Contains("  digest sender: envelope <failmail@example.com>, From: failmail@example.com\n", output, StringComparison.Ordinal);
        Assert.Contains("  targets: SMTP relay smtp://hub-a.example.com:25, failing over to smtps://hub-b.example.com:465\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASampleMessageNamesTheSilenceThatWouldTakeIt()
    {
        var silences = Path.Combine(_dir.Path, "silences.json");
        var book = Failmail.Silences.SilenceBook.Open(silences, TimeProvider.System);
        var put = book.Put(new Failmail.Silences.SilenceDocument
        {
            Matchers = [new Failmail.Silences.MatcherDocument { Name = "subject", Value = "disk.*", IsRegex = true }],
            EndsAt = DateTimeOffset.UtcNow.AddHours(2),
            CreatedBy = "ops",
            Comment = "db maintenance",
        }, out var problem, out _);
        Assert.True(put is not null, problem);
        var silenced = WriteFile(_dir.Path, "disk.eml", "From: app@example.com\r\nTo: ops@example.com\r\nSubject: disk full on web-3\r\n\r\nbody\r\n");
        var other = WriteFile(_dir.Path, "load.eml", "From: app@example.com\r\nTo: ops@example.com\r\nSubject: load high\r\n\r\nbody\r\n");

        var outcome = await InvokeAsync("--silences-file", silences, "--relay-addr", "debug", "check", silenced);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Matches(@"\n  silenced by \S+ until .+ UTC \(ops: db maintenance\): left out of every digest\n", outcome.Output.ReplaceLineEndings("\n"));

        outcome = await InvokeAsync("--silences-file", silences, "--relay-addr", "debug", "check", other);
        Assert.Contains("  silences: none of the 1 active ones matches\n", outcome.Output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABrokenSilencesFileIsAProblem()
    {
        var silences = WriteFile(_dir.Path, "silences.json", "{ not json");
        var outcome = await InvokeAsync("--silences-file", silences, "--relay-addr", "debug", "check");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(outcome.ErrorLines, l => l.StartsWith($"failmail: --silences-file {silences}: not a silences file", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ASampleMessageWhoseRecipientWouldBeRefusedIsAProblem()
    {
        var message = WriteFile(_dir.Path, "m.eml", "From: a@example.com\r\nTo: b@example.com\r\nSubject: x\r\n\r\nbody\r\n");
        var outcome = await InvokeAsync("check", "--rcpt", "c d@example.com", "--sender", "cron@example.com", message);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal($"failmail: {message}: RCPT TO:<c d@example.com> would be refused: 553 recipient <c d@example.com> cannot be relayed", Assert.Single(outcome.ErrorLines));
    }

    private (string Cert, string Key) WritePem(string name, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(notBefore, notAfter);
        return (WriteFile(_dir.Path, name + "-cert.pem", certificate.ExportCertificatePem()), WriteFile(_dir.Path, name + "-key.pem", key.ExportPkcs8PrivateKeyPem()));
    }

    [Fact]
    public async Task EveryProblemOfTheTransportMapIsALineWithItsFileAndLine()
    {
        var map = WriteFile(_dir.Path, "transport", "ops@example.com slack+ftp://h/x\n@example.com gopher+https://h/x\n* smtp\n");
        var outcome = await InvokeAsync("--transport-map", map, "check");
        Assert.Equal(2, outcome.ExitCode);
        var lines = outcome.Error.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith($"failmail: --transport-map: {map}:1: slack+:", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"failmail: --transport-map: {map}:2: unknown output gopher+", StringComparison.Ordinal));

        var good = WriteFile(_dir.Path, "transport-good", "ops@example.com pagerduty:KEY, smtp\n");
        outcome = await InvokeAsync("--transport-map", good, "check");
        Assert.Equal(0, outcome.ExitCode);
    }

    [Fact]
    public async Task ASampleMessageShowsWhereTheTransportMapSendsEachDigest()
    {
        var aliases = WriteFile(_dir.Path, "aliases", "root: ops-page@example.com, dba\n");
        var map = WriteFile(_dir.Path, "transport", "ops-page@example.com pagerduty:S3CRET, smtp\n");
        var message = WriteFile(_dir.Path, "cron.eml", "From: cron@example.com\r\nTo: root\r\nSubject: disk full\r\n\r\nx\r\n");
        var outcome = await InvokeAsync("--aliases", aliases, "--qualify-domain", "example.com", "--transport-map", map, "check", message);
        Assert.Equal(0, outcome.ExitCode);
        var output = outcome.Output.ReplaceLineEndings("\n");
        Assert.Matches(@"  transport map: ops-page@example.com -> pagerduty https://events.pagerduty.com/… \(pagerduty-[0-9a-f]{12}\), smtp\n", output);
        Assert.Contains("  transport map: dba@example.com -> smtp\n", output, StringComparison.Ordinal);
        Assert.DoesNotContain("S3CRET", output, StringComparison.Ordinal);
    }
}
