using Failmail.Maildir;
using Failmail.Relay;
using Failmail.Tests.EndToEnd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static Failmail.Tests.Relay.RelayTestKit;

namespace Failmail.Tests.Relay;

// The worker against a relay that says no or is down: 4xx retries with a doubling backoff,
// 5xx and --queue-lifetime expiry go to the fail-dir once, an unexpected fault backs off.
public class RelayServiceRetryTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task FourXxIsRetriedWithBackoffUntilTheRelayRecovers()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer { RcptReply = "451 4.3.0 try again later" };
        var options = Options(dir, server.Address);
        var time = new FakeTimeProvider(Start);
        var logs = new ListLoggerFactory();
        var store = new MemoryMessageStore();
        // Keep the connection across the retries, so the only timer is the backoff.
        await using var relay = new RelayService(options, store, new SmtpRelayTransport(options, time), logs, time) { IdleTimeout = TimeSpan.FromDays(1) };
        await using var running = Running.Start(relay);

        await relay.SendAsync(Digest("ops@example.com", "x"), CancellationToken.None).AsTask().WaitAsync(Patience);
        await UntilAsync(relay, () => relay.Retries == 1);
        Assert.Equal(1, server.RcptCommands);
        Assert.Equal(1, relay.RelayFailures);
        Assert.Equal(1, relay.QueueLength);
        Assert.Equal(Start, relay.FirstFailureSince);
        Assert.Contains(logs.Lines, l => l.Level == LogLevel.Warning && l.Text.Contains("451 4.3.0 try again later", StringComparison.Ordinal));

        // Nothing happens before RetryMin is over: one attempt per backoff window.
        time.Advance(options.RetryMin - TimeSpan.FromSeconds(1));
        Assert.Equal(1, server.RcptCommands);
        time.Advance(TimeSpan.FromSeconds(1));
        await UntilAsync(relay, () => relay.Retries == 2);
        Assert.Equal(2, server.RcptCommands);

        // The window doubled.
        time.Advance(options.RetryMin * 2 - TimeSpan.FromSeconds(1));
        Assert.Equal(2, server.RcptCommands);
        server.RcptReply = null;
        time.Advance(TimeSpan.FromSeconds(1));
        var mail = await server.ReceiveAsync();
        Assert.Equal(["ops@example.com"], mail.Recipients);
        await UntilAsync(relay, () => relay.DigestsSent == 1);
        Assert.Equal(3, server.RcptCommands);
        // One connection throughout, checked with NOOP before each reuse after the wait.
        Assert.Equal(1, server.Connections);
        Assert.Equal(2, server.NoOps);
        Assert.Empty(store.LoadPending());
        Assert.Null(relay.FirstFailureSince);
        Assert.Equal(0, relay.FailDirWrites);
    }

    [Fact]
    public async Task FiveXxMovesTheDigestToTheFailDirExactlyOnce()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer { RcptReply = "554 5.7.1 relay access denied" };
        var options = Options(dir, server.Address);
        var time = new FakeTimeProvider(Start);
        var logs = new ListLoggerFactory();
        var store = new MemoryMessageStore();
        await using var relay = new RelayService(options, store, new SmtpRelayTransport(options, time), logs, time);
        await using var running = Running.Start(relay);
        var digest = Digest("ops@example.com", "x");

        await relay.SendAsync(digest, CancellationToken.None).AsTask().WaitAsync(Patience);
        await UntilAsync(relay, () => relay.FailDirWrites == 1);
        time.Advance(options.RetryMax * 4);
        await UntilAsync(relay, () => true);

        var file = Assert.Single(FailDirFiles(options));
        Assert.Equal(Bytes(digest.Message), await File.ReadAllBytesAsync(file).WaitAsync(Patience));
        Assert.Empty(FailDirFiles(options, "tmp"));
        Assert.Empty(store.LoadPending());
        Assert.Equal(0, relay.QueueLength);
        Assert.Equal(1, server.RcptCommands);
        Assert.Equal(0, relay.Retries);
        Assert.Contains(logs.Lines, l => l.Level == LogLevel.Error && l.Text.Contains("fail-dir", StringComparison.Ordinal)
            && l.Text.Contains("554 5.7.1 relay access denied", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DownRelayBacksOffTheWorkerAndExpiresToTheFailDirOnce()
    {
        using var dir = new TempDir();
        // Bound and never listening: refused at every attempt, and no other socket (nor a
        // self-connect from the relay's own ephemeral port) can take it meanwhile.
        using var down = new RefusedPort();
        var options = Options(dir, down.Address) with
        {
            RetryMin = TimeSpan.FromMinutes(1),
            RetryMax = TimeSpan.FromMinutes(4),
            QueueLifetime = TimeSpan.FromMinutes(10),
        };
        var time = new FakeTimeProvider(Start);
        var store = new MemoryMessageStore();
        await using var relay = NewRelay(options, store, time);
        await using var running = Running.Start(relay);

        await relay.SendAsync(Digest("a@example.com", "x"), CancellationToken.None).AsTask().WaitAsync(Patience);
        await relay.SendAsync(Digest("b@example.com", "y"), CancellationToken.None).AsTask().WaitAsync(Patience);
        // Two digests, one attempt: a down relay stops the whole worker.
        await UntilAsync(relay, () => relay.RelayFailures == 1);
        Assert.Equal(2, relay.QueueLength);
        Assert.Equal(Start, relay.FirstFailureSince);

        // Attempts at 0, 1, 3, 7 and 11 minutes; the last finds both older than 10 minutes.
        var failures = 1;
        foreach (var minutes in new[] { 1, 2, 4 })
        {
            time.Advance(TimeSpan.FromMinutes(minutes) - TimeSpan.FromSeconds(1));
            Assert.Equal(failures, relay.RelayFailures);
            time.Advance(TimeSpan.FromSeconds(1));
            failures++;
            await UntilAsync(relay, () => relay.RelayFailures == failures);
            Assert.Equal(2, relay.QueueLength);
            Assert.Empty(FailDirFiles(options));
        }
        time.Advance(TimeSpan.FromMinutes(4));
        await UntilAsync(relay, () => relay.FailDirWrites == 2);

        Assert.Equal(5, relay.RelayFailures);
        Assert.Equal(4, relay.Retries);
        Assert.Equal(2, FailDirFiles(options).Length);
        Assert.Empty(store.LoadPending());
        time.Advance(options.RetryMax * 4);
        await UntilAsync(relay, () => true);
        Assert.Equal(2, FailDirFiles(options).Length);
        Assert.Equal(5, relay.RelayFailures);
    }

    [Fact]
    public async Task UnexpectedFaultBacksOffInsteadOfEndingTheWorker()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer();
        var options = Options(dir, server.Address);
        var time = new FakeTimeProvider(Start);
        var store = new FaultyReadStore { FailReads = true };
        await using var relay = NewRelay(options, store, time);
        await using var running = Running.Start(relay);

        await relay.SendAsync(Digest("ops@example.com", "x"), CancellationToken.None).AsTask().WaitAsync(Patience);
        await UntilAsync(relay, () => relay.RelayFailures == 1);
        Assert.False(running.Task.IsCompleted);
        Assert.Equal(1, relay.QueueLength);

        store.FailReads = false;
        time.Advance(options.RetryMin);
        Assert.Equal(["ops@example.com"], (await server.ReceiveAsync()).Recipients);
        await UntilAsync(relay, () => relay.DigestsSent == 1);
    }
}
