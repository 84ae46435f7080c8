using Failmail.Maildir;
using Failmail.Relay;
using Failmail.Tests.EndToEnd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using static Failmail.Tests.Relay.RelayTestKit;

namespace Failmail.Tests.Relay;

// The --relay-addr failover list: relays tried in order, a failing one skipped for its own
// backoff (--retry-min doubling to --retry-max), a 4xx moving on without a skip, a 5xx ending
// the send; clocks are FakeTimeProviders, relays scripted or real (TestSmtpServer, RefusedPort).
public class FailoverRelayTransportTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan RetryMin = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RetryMax = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task ADownRelayIsSkippedForItsBackoffAndTheNextTakesTheMessage()
    {
        var time = new FakeTimeProvider(Start);
        var a = new ScriptedTransport { Failure = Down("connection refused") };
        var b = new ScriptedTransport();
        var logs = new ListLoggerFactory();
        await using var failover = Failover(time, logs, a, b);

        await SendAsync(failover);
        Assert.Equal((1, 1), (a.Calls, b.Calls));
        Assert.Equal("smtp://b:25", failover.LastRelay);
        Assert.Contains(logs.Lines, l => l.Level == LogLevel.Warning
            && l.Text.Contains("relay smtp://a:25 unavailable: connection refused; skipped until 2026-11-22T12:00:30", StringComparison.Ordinal)
            && l.Text.Contains("trying smtp://b:25", StringComparison.Ordinal));

        // Within the skip only b is tried.
        time.Advance(RetryMin - TimeSpan.FromSeconds(1));
        await SendAsync(failover);
        Assert.Equal((1, 2), (a.Calls, b.Calls));

        // Past it a is tried first again; still down, its skip doubles.
        time.Advance(TimeSpan.FromSeconds(1));
        await SendAsync(failover);
        Assert.Equal((2, 3), (a.Calls, b.Calls));
        time.Advance(RetryMin * 2 - TimeSpan.FromSeconds(1));
        await SendAsync(failover);
        Assert.Equal((2, 4), (a.Calls, b.Calls));

        // a answers again: it takes the next message, b is not asked.
        a.Failure = null;
        time.Advance(TimeSpan.FromSeconds(1));
        await SendAsync(failover);
        Assert.Equal((3, 4), (a.Calls, b.Calls));
        Assert.Equal("smtp://a:25", failover.LastRelay);
        Assert.Contains(logs.Lines, l => l.Text.Contains("relay smtp://a:25 answers again", StringComparison.Ordinal));

        var stats = failover.Endpoints;
        Assert.Equal(new RelayEndpointStats("smtp://a:25", 3, 2, 1, TimeSpan.Zero, null), stats[0]);
        Assert.Equal(new RelayEndpointStats("smtp://b:25", 4, 0, 4, TimeSpan.Zero, null), stats[1]);
    }

    [Fact]
    public async Task WhenEveryRelayFailsTheSendFailsAndReadyAtIsTheFirstSkipsEnd()
    {
        var time = new FakeTimeProvider(Start);
        var a = new ScriptedTransport { Failure = Down("connection refused") };
        var b = new ScriptedTransport { Failure = Down("timed out") };
        await using var failover = Failover(time, null, a, b);

        var e = await Assert.ThrowsAsync<RelayException>(() => SendAsync(failover));
        Assert.Equal(RelayFailureKind.ConnectionTransient, e.Kind);
        Assert.Equal("every relay failed: smtp://a:25: connection refused; smtp://b:25: timed out", e.Message);
        Assert.Equal(time.GetTimestamp() + (long)(RetryMin.TotalSeconds * time.TimestampFrequency), failover.ReadyAt);
        var stats = failover.Endpoints;
        Assert.All(stats, s => Assert.False(s.Up));
        Assert.Equal(RetryMin, stats[0].Backoff);
        Assert.Equal("timed out", stats[1].LastError);

        // b recovers and a's skip is made longer by another failure alone.
        b.Failure = null;
        time.Advance(RetryMin);
        Assert.Null(failover.ReadyAt);
        await SendAsync(failover);
        Assert.Equal((2, 2), (a.Calls, b.Calls));
        Assert.Equal(RetryMin * 2, failover.Endpoints[0].Backoff);
        Assert.True(failover.Endpoints[1].Up);
    }

    [Fact]
    public async Task WhenEveryRelayIsSkippedAnEarlyRetryTriesThemAllInOrder()
    {
        var time = new FakeTimeProvider(Start);
        var a = new ScriptedTransport { Failure = Down("connection refused") };
        var b = new ScriptedTransport { Failure = Down("connection refused") };
        await using var failover = Failover(time, null, a, b);
        _ = await Assert.ThrowsAsync<RelayException>(() => SendAsync(failover));

        // `resend` cut the worker's wait short: it asked for a try now.
        b.Failure = null;
        await SendAsync(failover);
        Assert.Equal((2, 2), (a.Calls, b.Calls));
    }

    [Fact]
    public async Task AFourXxMovesOnWithoutSkippingTheRelayAndAFiveXxEndsTheSend()
    {
        var time = new FakeTimeProvider(Start);
        var a = new ScriptedTransport { Failure = new RelayException(RelayFailureKind.MessageTransient, "relay deferred the message: 452 4.3.1 disk full") };
        var b = new ScriptedTransport();
        await using var failover = Failover(time, null, a, b);

        await SendAsync(failover);
        Assert.Equal((1, 1), (a.Calls, b.Calls));
        Assert.All(failover.Endpoints, s => Assert.True(s.Up));

        // Deferred by both: the message waits (its own backoff), no relay is skipped.
        b.Failure = new RelayException(RelayFailureKind.MessageTransient, "relay deferred the message: 451 later");
        var deferred = await Assert.ThrowsAsync<RelayException>(() => SendAsync(failover));
        Assert.Equal(RelayFailureKind.MessageTransient, deferred.Kind);
        Assert.Contains("452 4.3.1 disk full", deferred.Message, StringComparison.Ordinal);
        Assert.Null(failover.ReadyAt);

        a.Failure = new RelayException(RelayFailureKind.Permanent, "relay rejected the message: 554 no");
        var rejected = await Assert.ThrowsAsync<RelayException>(() => SendAsync(failover));
        Assert.Equal(RelayFailureKind.Permanent, rejected.Kind);
        Assert.Equal((3, 2), (a.Calls, b.Calls));
    }

    [Fact]
    public async Task ASingleRelayFailsWithItsOwnReason()
    {
        var time = new FakeTimeProvider(Start);
        var a = new ScriptedTransport { Failure = Down("relay connection failed: connection refused") };
        await using var failover = Failover(time, null, a);
        var e = await Assert.ThrowsAsync<RelayException>(() => SendAsync(failover));
        Assert.Equal("relay connection failed: connection refused", e.Message);
    }

    [Fact]
    public async Task TheWorkerFallsOverFromARefusedPortToALiveRelayAndWaitsForTheFirstSkipToEnd()
    {
        using var dir = new TempDir();
        using var dead = new RefusedPort();
        // Closes after the message, so that disposing it below waits for no open session.
        var live = new TestSmtpServer { CloseAfterMessage = true };
        var options = Options(dir, $"{dead.Address}, smtp://{live.Address}");
        var time = new FakeTimeProvider(Start);
        var logs = new ListLoggerFactory();
        var settings = RelaySettings.From(options);
        Assert.Equal(2, settings.Addresses.Count);
        var transport = RelayTransportFactory.Create(settings, time, Stream.Null, logs);
        await using var relay = new RelayService(settings, new MemoryMessageStore(), transport, logs, time) { IdleTimeout = TimeSpan.FromDays(1) };
        await using var running = Running.Start(relay);

        await relay.SendAsync(Digest("ops@example.com", "x"), CancellationToken.None).AsTask().WaitAsync(Patience);
        var mail = await live.ReceiveAsync().WaitAsync(Patience);
        Assert.Equal(["ops@example.com"], mail.Recipients);
        await UntilAsync(relay, () => relay.DigestsSent == 1);
        Assert.Equal(0, relay.FailDirWrites);
        Assert.Contains(logs.Lines, l => l.Text.Contains($"sent ", StringComparison.Ordinal) && l.Text.Contains($"via smtp://{live.Address}", StringComparison.Ordinal));
        var endpoints = relay.Endpoints;
        Assert.Equal(($"smtp://{dead.Address}", 1, 1, 0, false), (endpoints[0].Relay, endpoints[0].Attempts, endpoints[0].Failures, endpoints[0].Sent, endpoints[0].Up));
        Assert.Equal((1, 0, 1, true), (endpoints[1].Attempts, endpoints[1].Failures, endpoints[1].Sent, endpoints[1].Up));

        // Now the live one goes down too: the worker waits until the dead relay's skip ends
        // (30 s from its first failure), not a fresh 30 s.
        var liveAddress = live.Address; // not readable once stopped
        await live.DisposeAsync();
        await relay.SendAsync(Digest("ops@example.com", "y"), CancellationToken.None).AsTask().WaitAsync(Patience);
        // The worker counts failed deliveries: the first one went through b.
        await UntilAsync(relay, () => relay.RelayFailures == 1);
        Assert.Contains(logs.Lines, l => l.Level == LogLevel.Warning && l.Text.Contains($"relay unavailable: every relay failed: smtp://{liveAddress}: ", StringComparison.Ordinal)
            && l.Text.Contains($"; smtp://{dead.Address}: skipped for 30s more (relay connection failed: connection refused)", StringComparison.Ordinal));
        Assert.Equal(1, relay.Endpoints[0].Attempts);
        Assert.Equal(1, relay.Endpoints[1].Failures);
        time.Advance(RetryMin - TimeSpan.FromSeconds(1));
        await UntilAsync(relay, () => true);
        Assert.Equal(1, relay.Endpoints[0].Attempts);
        time.Advance(TimeSpan.FromSeconds(1));
        await UntilAsync(relay, () => relay.Endpoints[0].Attempts == 2);
        Assert.Equal(1, relay.QueueLength);
    }

    [Fact]
    public async Task AListOfOneKeepsTheWorkersDoublingBackoff()
    {
        using var dir = new TempDir();
        using var dead = new RefusedPort();
        var options = Options(dir, dead.Address);
        var time = new FakeTimeProvider(Start);
        var settings = RelaySettings.From(options);
        await using var relay = new RelayService(settings, new MemoryMessageStore(), RelayTransportFactory.Create(settings, time, Stream.Null), NullLogs, time);
        await using var running = Running.Start(relay);
        await relay.SendAsync(Digest("ops@example.com", "x"), CancellationToken.None).AsTask().WaitAsync(Patience);
        await UntilAsync(relay, () => relay.RelayFailures == 1);
        time.Advance(RetryMin);
        await UntilAsync(relay, () => relay.RelayFailures == 2);
        time.Advance(RetryMin * 2 - TimeSpan.FromSeconds(1));
        await UntilAsync(relay, () => true);
        Assert.Equal(2, relay.RelayFailures);
        time.Advance(TimeSpan.FromSeconds(1));
        await UntilAsync(relay, () => relay.RelayFailures == 3);
        Assert.Equal(3, relay.Endpoints.Single().Attempts);
    }

    private static readonly Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory NullLogs = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;

    private static FailoverRelayTransport Failover(FakeTimeProvider time, ListLoggerFactory? logs, params ScriptedTransport[] transports) =>
        new(transports.Select((t, i) => new RelayEndpoint($"smtp://{(char)('a' + i)}:25", t)).ToList(), RetryMin, RetryMax, time,
            logs?.CreateLogger("Failmail.Relay"));

    private static async Task SendAsync(FailoverRelayTransport failover) =>
        await failover.SendAsync(new MimeMessage(), "failmail@test.example", ["ops@example.com"], CancellationToken.None).AsTask().WaitAsync(Patience);

    private static RelayException Down(string reason) => new(RelayFailureKind.ConnectionTransient, reason);

    // A relay that fails with Failure (when set) or takes the message; counts its calls.
    private sealed class ScriptedTransport : IRelayTransport
    {
        public RelayException? Failure { get; set; }

        public int Calls { get; private set; }

        public ValueTask SendAsync(MimeMessage message, string from, IReadOnlyList<string> recipients, CancellationToken cancellationToken)
        {
            Calls++;
            return Failure is { } failure ? ValueTask.FromException(failure) : ValueTask.CompletedTask;
        }

        public ValueTask DisconnectAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
