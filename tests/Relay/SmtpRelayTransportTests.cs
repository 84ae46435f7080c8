using Failmail.Maildir;
using Failmail.Relay;
using Failmail.Tests.EndToEnd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static Failmail.Tests.Relay.RelayTestKit;

namespace Failmail.Tests.Relay;

public class SmtpRelayTransportTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static Task<(RelayService Relay, Running Running, ListLoggerFactory Logs)> StartAsync(FailmailOptions options) => StartRelayAsync(options);

    [Fact]
    public async Task StartTlsIsUsedWhenTheRelayOffersIt()
    {
        using var dir = new TempDir();
        using var certificates = new TestCertificates();
        await using var server = new TestSmtpServer(certificates.Server);
        var options = Options(dir, server.Address) with { RelayCaFile = certificates.WriteCaFile(dir.Path) };
        var (relay, running, _) = await StartAsync(options).WaitAsync(Patience);
        await using (relay)
        await using (running)
        {
            var mail = await server.ReceiveAsync();
            Assert.True(mail.Secure);
            Assert.Equal(1, server.StartTlsCommands);
        }
    }

    [Fact]
    public async Task UntrustedCertificateFailsTheConnectionWithAClearReason()
    {
        using var dir = new TempDir();
        using var certificates = new TestCertificates();
        await using var server = new TestSmtpServer(certificates.Server);
        // Default verification: the test CA is not among the system roots.
        var (relay, running, logs) = await StartAsync(Options(dir, server.Address)).WaitAsync(Patience);
        await using (relay)
        await using (running)
        {
            await UntilAsync(relay, () => relay.RelayFailures == 1);
            Assert.Equal(1, relay.QueueLength);
            Assert.Equal(0, relay.FailDirWrites);
            Assert.Empty(server.Messages);
            var warning = Assert.Single(logs.Lines, l => l.Level == LogLevel.Warning && l.Text.Contains("TLS", StringComparison.Ordinal));
            Assert.Contains("relay unavailable: TLS with the relay failed: certificate untrusted (", warning.Text, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', warning.Text);
        }
    }

    [Theory]
    [InlineData("PLAIN LOGIN")]
    [InlineData("LOGIN")]
    public async Task AuthenticatesWithUserAndPasswordOverStartTls(string mechanisms)
    {
        using var dir = new TempDir();
        using var certificates = new TestCertificates();
        await using var server = new TestSmtpServer(certificates.Server, "alerts", "pa:ss word", mechanisms);
        var options = Options(dir, server.Address) with { RelayUser = "alerts", RelayPassword = "pa:ss word", RelayCaFile = certificates.WriteCaFile(dir.Path) };
        var (relay, running, _) = await StartAsync(options).WaitAsync(Patience);
        await using (relay)
        await using (running)
        {
            var mail = await server.ReceiveAsync();
            Assert.True(mail.Secure);
            Assert.StartsWith("alerts ", mail.AuthUser, StringComparison.Ordinal);
            Assert.Equal(0, server.AuthFailures);
        }
    }

    [Fact]
    public async Task WrongPasswordKeepsTheDigestQueuedAndNeverLogsThePassword()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer(null, "alerts", "right-password");
        var options = Options(dir, server.Address) with { RelayUser = "alerts", RelayPassword = "wrong-password" };
        var (relay, running, logs) = await StartAsync(options).WaitAsync(Patience);
        await using (relay)
        await using (running)
        {
            await UntilAsync(relay, () => relay.RelayFailures == 1);
            Assert.True(server.AuthFailures >= 1);
            Assert.Equal(1, server.Connections);
            Assert.Equal(1, relay.QueueLength);
            Assert.Equal(0, relay.FailDirWrites);
            Assert.DoesNotContain(logs.Lines, l => l.Text.Contains("wrong-password", StringComparison.Ordinal));
            Assert.Contains(logs.Lines, l => l.Level == LogLevel.Warning
                && l.Text.Contains("relay unavailable: authentication rejected: 535 5.7.8 authentication failed", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("smtp://127.0.0.1:{0}")]
    [InlineData("SMTP://127.0.0.1:{0}/")]
    [InlineData("127.0.0.1:{0}")]
    [InlineData("smtp+starttls://127.0.0.1:{0}")]
    public async Task SmtpAndStartTlsSchemesUpgradeWithStartTls(string format)
    {
        using var dir = new TempDir();
        using var certificates = new TestCertificates();
        await using var server = new TestSmtpServer(certificates.Server);
        var options = Options(dir, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, server.Port))
            with { RelayCaFile = certificates.WriteCaFile(dir.Path) };

        Assert.Null(await TrySendAsync(options));

        var mail = await server.ReceiveAsync();
        Assert.True(mail.Secure);
        Assert.Equal(1, server.StartTlsCommands);
    }

    [Fact]
    public async Task ImplicitTlsWorksOnAPortOtherThan465()
    {
        using var dir = new TempDir();
        using var certificates = new TestCertificates();
        await using var server = new TestSmtpServer(certificates.Server, implicitTls: true);
        Assert.NotEqual(465, server.Port);
        var options = Options(dir, $"smtps://127.0.0.1:{server.Port}") with { RelayCaFile = certificates.WriteCaFile(dir.Path) };

        Assert.Null(await TrySendAsync(options));

        var mail = await server.ReceiveAsync();
        Assert.True(mail.Secure);
        Assert.Equal(0, server.StartTlsCommands);
    }

    [Fact]
    public async Task ImplicitTlsAgainstAPlainServerFailsAsATlsError()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer();

        var failure = await TrySendAsync(Options(dir, $"smtps://127.0.0.1:{server.Port}") with { RelayTimeout = TimeSpan.FromSeconds(2) });

        Assert.NotNull(failure);
        Assert.Equal(RelayFailureKind.ConnectionTransient, failure.Kind);
        Assert.StartsWith("TLS with the relay failed: ", failure.Message, StringComparison.Ordinal);
        Assert.EndsWith($"(does 127.0.0.1:{server.Port} speak implicit TLS? smtp+starttls:// is for STARTTLS)", failure.Message, StringComparison.Ordinal);
        Assert.Empty(server.Messages);
    }

    [Fact]
    public async Task RequiredStartTlsThatIsNotOfferedKeepsTheDigestQueuedWithAClearReason()
    {
        using var dir = new TempDir();
        using var certificates = new TestCertificates();
        // The server could do TLS but does not offer STARTTLS (a stripping attacker's view).
        await using var server = new TestSmtpServer(certificates.Server, offerStartTls: false);
        var options = Options(dir, $"smtp+starttls://127.0.0.1:{server.Port}") with { RelayCaFile = certificates.WriteCaFile(dir.Path) };
        var (relay, running, logs) = await StartAsync(options).WaitAsync(Patience);
        await using (relay)
        await using (running)
        {
            await UntilAsync(relay, () => relay.RelayFailures == 1);
            Assert.Equal(1, relay.QueueLength);
            Assert.Equal(0, relay.FailDirWrites);
            Assert.Equal(1, relay.Retries);
            Assert.Empty(server.Messages);
            Assert.Equal(0, server.StartTlsCommands);
            Assert.Contains(logs.Lines, l => l.Level == LogLevel.Warning
                && l.Text.Contains($"relay unavailable: STARTTLS not offered while required by smtp+starttls://127.0.0.1:{server.Port}", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task PlainSchemeNeverUpgradesEvenWhenStartTlsIsOffered()
    {
        using var dir = new TempDir();
        using var certificates = new TestCertificates();
        await using var server = new TestSmtpServer(certificates.Server, "alerts", "secret");
        Assert.True(server.OfferStartTls);
        // AUTH over plain text is allowed to loopback only.
        var options = Options(dir, $"smtp+plain://127.0.0.1:{server.Port}") with { RelayUser = "alerts", RelayPassword = "secret" };

        Assert.Null(await TrySendAsync(options));

        var mail = await server.ReceiveAsync();
        Assert.False(mail.Secure);
        Assert.Equal("alerts PLAIN", mail.AuthUser);
        Assert.Equal(0, server.StartTlsCommands);
    }

    [Fact]
    public async Task RefusedConnectionSaysConnectionRefused()
    {
        using var dir = new TempDir();

        using var down = new RefusedPort();
        var failure = await TrySendAsync(Options(dir, down.Address));

        Assert.NotNull(failure);
        Assert.Equal(RelayFailureKind.ConnectionTransient, failure.Kind);
        Assert.Contains("connection refused", failure.Message, StringComparison.Ordinal);
    }

    // Which replies are final (fail-dir at once) and which are retried.
    [Theory]
    [InlineData("mail", "553 5.1.8 sender rejected", true)]
    [InlineData("mail", "451 4.3.0 later", false)]
    [InlineData("rcpt", "550 5.1.1 no such user", true)]
    [InlineData("data", "554 5.6.0 no", true)]
    [InlineData("data", "451 4.3.0 later", false)]
    [InlineData("end", "552 5.3.4 too big", true)]
    [InlineData("end", "452 4.3.1 out of space", false)]
    public async Task RepliesAreSplitIntoPermanentAndTransient(string stage, string reply, bool permanent)
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer();
        switch (stage)
        {
            case "mail": server.MailReply = reply; break;
            case "rcpt": server.RcptReply = reply; break;
            case "data": server.DataReply = reply; break;
            default: server.EndOfDataReply = reply; break;
        }
        var (relay, running, _) = await StartAsync(Options(dir, server.Address)).WaitAsync(Patience);
        await using (relay)
        await using (running)
        {
            await UntilAsync(relay, () => relay.RelayFailures == 1);
            Assert.Equal(permanent ? 1 : 0, relay.FailDirWrites);
            Assert.Equal(permanent ? 0 : 1, relay.QueueLength);
            Assert.Equal(permanent ? 0 : 1, relay.Retries);
        }
    }

    [Fact]
    public async Task NullSenderIsSentAsAnEmptyPath()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer();
        var options = Options(dir, server.Address);
        var time = new FakeTimeProvider(Start);
        await using var transport = new SmtpRelayTransport(options, time);
        var message = Digest("ops@example.com", "x").Message;

        await transport.SendAsync(message, "", ["a@example.com", "b@example.com"], CancellationToken.None).AsTask().WaitAsync(Patience);

        var mail = await server.ReceiveAsync();
        Assert.Equal("", mail.From);
        Assert.Equal(["a@example.com", "b@example.com"], mail.Recipients);
    }

    [Fact]
    public async Task DroppedConnectionIsReopenedAfterTheWorkerBackoff()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer { DropAtData = true };
        var options = Options(dir, server.Address);
        var time = new FakeTimeProvider(Start);
        await using var relay = new RelayService(options, new MemoryMessageStore(), new SmtpRelayTransport(options, time), new ListLoggerFactory(), time);
        await using var running = Running.Start(relay);

        await relay.SendAsync(Digest("ops@example.com", "x"), CancellationToken.None).AsTask().WaitAsync(Patience);
        await UntilAsync(relay, () => relay.RelayFailures == 1);
        Assert.Equal(1, relay.QueueLength);
        Assert.Equal(1, relay.Retries);

        server.DropAtData = false;
        time.Advance(options.RetryMin);
        var mail = await server.ReceiveAsync();
        Assert.Equal(2, mail.Connection);
        await UntilAsync(relay, () => relay.DigestsSent == 1);
    }

    [Fact]
    public async Task SilentRelayTimesOutInsteadOfHanging()
    {
        using var dir = new TempDir();
        // Accepts connections (the kernel completes the handshake) but never greets.
        var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        try
        {
            var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
            var options = Options(dir, $"127.0.0.1:{port}") with { RelayTimeout = TimeSpan.FromMilliseconds(300) };
            var (relay, running, logs) = await StartAsync(options).WaitAsync(Patience);
            await using (relay)
            await using (running)
            {
                await UntilAsync(relay, () => relay.RelayFailures == 1);
                Assert.Equal(1, relay.QueueLength);
                Assert.Contains(logs.Lines, l => l.Level == LogLevel.Warning
                    && l.Text.Contains("relay unavailable", StringComparison.Ordinal) && l.Text.Contains("timed out", StringComparison.Ordinal));
            }
        }
        finally
        {
            silent.Stop();
        }
    }

    [Fact]
    public async Task RelayAddrDebugPicksTheDebugTransport()
    {
        var time = new FakeTimeProvider(Start);
        await using var debug = RelayTransportFactory.Create(new FailmailOptions { RelayAddr = "debug" }, time, Stream.Null);
        await using var smtp = RelayTransportFactory.Create(new FailmailOptions { RelayAddr = "mail.example.com" }, time, Stream.Null);
        Assert.IsType<DebugRelayTransport>(debug);
        var relay = Assert.Single(Assert.IsType<FailoverRelayTransport>(smtp).Relays);
        Assert.Equal(new RelayAddress("mail.example.com", 25), Assert.IsType<SmtpRelayTransport>(relay.Transport).Address);
        Assert.Throws<ArgumentException>(() => RelayTransportFactory.Create(new FailmailOptions { RelayAddr = "mail.example.com:smtp" }, time, Stream.Null));
    }

    [Theory]
    [InlineData("not an address")]
    [InlineData("a@b@c")]
    public async Task UnusableEnvelopeAddressIsPermanent(string recipient)
    {
        var options = new FailmailOptions { RelayAddr = $"127.0.0.1:{FreePort.Next()}" };
        await using var transport = new SmtpRelayTransport(options, new FakeTimeProvider(Start));

        var failure = await Assert.ThrowsAsync<RelayException>(
            () => transport.SendAsync(Digest("ops@example.com", "x").Message, "failmail@test.example", [recipient], CancellationToken.None).AsTask().WaitAsync(Patience));

        Assert.Equal(RelayFailureKind.Permanent, failure.Kind);
    }

    [Fact]
    public async Task ConnectionClosedWhileIdleIsNoticedByNoOpAndReopened()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer { CloseAfterMessage = true };
        var options = Options(dir, server.Address);
        var time = new FakeTimeProvider(Start);
        await using var relay = new RelayService(options, new MemoryMessageStore(), new SmtpRelayTransport(options, time), new ListLoggerFactory(), time);
        await using var running = Running.Start(relay);

        await relay.SendAsync(Digest("a@example.com", "x"), CancellationToken.None).AsTask().WaitAsync(Patience);
        Assert.Equal(1, (await server.ReceiveAsync()).Connection);
        await UntilAsync(relay, () => relay.DigestsSent == 1);

        // Idle for longer than the NOOP threshold, shorter than the idle close.
        time.Advance(TimeSpan.FromSeconds(3));
        await relay.SendAsync(Digest("b@example.com", "y"), CancellationToken.None).AsTask().WaitAsync(Patience);
        Assert.Equal(2, (await server.ReceiveAsync()).Connection);
        await UntilAsync(relay, () => relay.DigestsSent == 2);
        Assert.Equal(0, relay.RelayFailures);
    }
}
