using System.Security.Cryptography.X509Certificates;
using Failmail.Relay;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static Failmail.Tests.Relay.RelayTestKit;

namespace Failmail.Tests.Relay;

// Certificate checks through a real handshake: SmtpRelayTransport against TestSmtpServer.
public class RelayCertificatePolicyTests
{
    private static async Task<(RelayException? Failure, TestSmtpServer Server)> SendAsync(TempDir dir, X509Certificate2 presented,
        Func<FailmailOptions, FailmailOptions> configure, bool implicitTls = false)
    {
        var server = new TestSmtpServer(presented, implicitTls: implicitTls);
        var scheme = implicitTls ? "smtps" : "smtp";
        var failure = await TrySendAsync(configure(Options(dir, $"{scheme}://127.0.0.1:{server.Port}")));
        return (failure, server);
    }

    [Fact]
    public async Task AnUntrustedCertificateIsRejectedWithTheChainStatus()
    {
        using var dir = new TempDir();
        using var certificates = new TestCertificates();
        var (failure, server) = await SendAsync(dir, certificates.Server, o => o);
        await using (server)
        {
            Assert.NotNull(failure);
            Assert.Equal(RelayFailureKind.ConnectionTransient, failure.Kind);
            Assert.StartsWith("TLS with the relay failed: certificate untrusted (", failure.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', failure.Message);
            Assert.Empty(server.Messages);
        }
    }

    [Fact]
    public async Task TheCaFileMakesTheTestCaTrusted()
    {
        using var dir = new TempDir();
        using var certificates = new TestCertificates();
        var (failure, server) = await SendAsync(dir, certificates.Server, o => o with { RelayCaFile = certificates.WriteCaFile(dir.Path) }, implicitTls: true);
        await using (server)
        {
            Assert.Null(failure);
            Assert.True((await server.ReceiveAsync()).Secure);
        }
    }

    [Fact]
    public async Task TheCaFileStillChecksTheHostName()
    {
        using var dir = new TempDir();
        using var certificates = new TestCertificates();
        var (failure, server) = await SendAsync(dir, certificates.WrongHost, o => o with { RelayCaFile = certificates.WriteCaFile(dir.Path) });
        await using (server)
        {
            Assert.NotNull(failure);
            Assert.Equal("TLS with the relay failed: certificate is not valid for the host name 127.0.0.1", failure.Message);
            Assert.Empty(server.Messages);
        }
    }

    [Fact]
    public async Task TheCaFileReplacesTheSystemRootsSoOtherIssuersAreUntrusted()
    {
        using var dir = new TempDir();
        using var certificates = new TestCertificates();
        var (failure, server) = await SendAsync(dir, certificates.SelfSigned, o => o with { RelayCaFile = certificates.WriteCaFile(dir.Path) });
        await using (server)
        {
            Assert.NotNull(failure);
            Assert.StartsWith("TLS with the relay failed: certificate untrusted (", failure.Message, StringComparison.Ordinal);
            Assert.Contains("--relay-ca-file", failure.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public async Task AMatchingPinAcceptsASelfSignedCertificate(bool colons, bool implicitTls)
    {
        using var dir = new TempDir();
        using var certificates = new TestCertificates();
        var pin = TestCertificates.Fingerprint(certificates.SelfSigned);
        pin = colons ? pin : pin.Replace(":", "", StringComparison.Ordinal).ToLowerInvariant();
        var (failure, server) = await SendAsync(dir, certificates.SelfSigned, o => o with { RelayFingerprint = pin }, implicitTls);
        await using (server)
        {
            Assert.Null(failure);
            Assert.True((await server.ReceiveAsync()).Secure);
        }
    }

    [Fact]
    public async Task ThePinDecidesAloneEvenAgainstAWrongHostName()
    {
        using var dir = new TempDir();
        using var certificates = new TestCertificates();
        var pins = $"{TestCertificates.Fingerprint(certificates.Server)}, {TestCertificates.Fingerprint(certificates.WrongHost)}";
        var (failure, server) = await SendAsync(dir, certificates.WrongHost, o => o with { RelayFingerprint = pins });
        await using (server)
        {
            Assert.Null(failure);
            Assert.Single(server.Messages);
        }
    }

    [Fact]
    public async Task AWrongPinRejectsEvenATrustedCertificate()
    {
        using var dir = new TempDir();
        using var certificates = new TestCertificates();
        var (failure, server) = await SendAsync(dir, certificates.Server, o => o with
        {
            RelayCaFile = certificates.WriteCaFile(dir.Path),
            RelayFingerprint = TestCertificates.Fingerprint(certificates.SelfSigned),
        });
        await using (server)
        {
            Assert.NotNull(failure);
            Assert.Equal(RelayFailureKind.ConnectionTransient, failure.Kind);
            Assert.Equal($"TLS with the relay failed: certificate does not match the pinned fingerprint (the relay's is {TestCertificates.Fingerprint(certificates.Server)})",
                failure.Message);
            Assert.Empty(server.Messages);
        }
    }

    [Theory]
    [InlineData("pin", "127.0.0.1:{0}")]
    [InlineData("ca", "smtp://127.0.0.1:{0}")]
    public async Task APinOrCaFileMakesStartTlsMandatorySoStrippingItCannotSkipTheCheck(string setting, string format)
    {
        using var dir = new TempDir();
        using var certificates = new TestCertificates();
        await using var server = new TestSmtpServer(certificates.Server, offerStartTls: false);
        var options = Options(dir, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, server.Port));
        options = setting == "pin"
            ? options with { RelayFingerprint = TestCertificates.Fingerprint(certificates.Server) }
            : options with { RelayCaFile = certificates.WriteCaFile(dir.Path) };

        var failure = await TrySendAsync(options);

        Assert.NotNull(failure);
        Assert.Equal(RelayFailureKind.ConnectionTransient, failure.Kind);
        var flag = setting == "pin" ? "--relay-fingerprint" : "--relay-ca-file";
        Assert.Equal($"STARTTLS not offered while required by {flag} (for smtp://127.0.0.1:{server.Port})", failure.Message);
        Assert.Empty(server.Messages);
    }

    [Fact]
    public async Task InsecureAcceptsAnyCertificateAndWarnsAtStartUp()
    {
        using var dir = new TempDir();
        using var certificates = new TestCertificates();
        await using var server = new TestSmtpServer(certificates.WrongHost);
        var options = Options(dir, server.Address) with { RelayInsecure = true };
        var logs = new ListLoggerFactory();
        await using var transport = new SmtpRelayTransport(options, new FakeTimeProvider(), logs.CreateLogger("Failmail.Relay"));
        var warning = Assert.Single(logs.Lines);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("--relay-insecure", warning.Text, StringComparison.Ordinal);

        await transport.SendAsync(Digest("ops@example.com", "x").Message, "failmail@test.example", ["ops@example.com"], CancellationToken.None)
            .AsTask().WaitAsync(Patience);

        Assert.True((await server.ReceiveAsync()).Secure);
    }

    [Fact]
    public void AMissingCaFileIsAStartUpErrorNamingTheFlag()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "missing.pem");
        var error = Assert.Throws<IOException>(() => new SmtpRelayTransport(Options(dir, "smtps://relay.example") with { RelayCaFile = path }, new FakeTimeProvider()));
        Assert.Equal($"--relay-ca-file {path}: no such file", error.Message);
    }

    [Fact]
    public void ACaFileWithoutCertificatesIsAStartUpError()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "empty.pem");
        File.WriteAllText(path, "not a certificate\n");
        var error = Assert.Throws<IOException>(() => new SmtpRelayTransport(Options(dir, "smtps://relay.example") with { RelayCaFile = path }, new FakeTimeProvider()));
        Assert.StartsWith($"--relay-ca-file {path}: no PEM certificate", error.Message, StringComparison.Ordinal);
    }
}
