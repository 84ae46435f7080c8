using Failmail.Tests.EndToEnd;
using System.Text;
using Failmail.Maildir;
using Failmail.Relay;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Failmail.Tests.Relay.RelayTestKit;

namespace Failmail.Tests.Relay;

public class RelayServiceTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static RelayService Relay(FailmailOptions options, IMessageStore store, TimeProvider time, ILoggerFactory? logs = null) =>
        new(options, store, new SmtpRelayTransport(options, time), logs ?? NullLoggerFactory.Instance, time);

    [Fact]
    public async Task DigestReachesTheRelayWithItsEnvelopeAndUnchangedBytes()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer();
        var options = Options(dir, server.Address);
        var time = new FakeTimeProvider(Start);
        var store = new MemoryMessageStore();
        await using var relay = Relay(options, store, time);
        var digest = Digest("ops@example.com", "disk full on db1");

        await relay.SendAsync(digest, CancellationToken.None).AsTask().WaitAsync(Patience);
        var queued = Assert.Single(store.LoadPending());
        Assert.Equal("failmail@test.example", queued.Envelope.From);
        Assert.Equal(["ops@example.com"], queued.Envelope.Recipients);
        Assert.Equal(Start, queued.Envelope.Received);

        await using var running = Running.Start(relay);
        var mail = await server.ReceiveAsync();
        Assert.Equal("failmail@test.example", mail.From);
        Assert.Equal(["ops@example.com"], mail.Recipients);
        Assert.Equal(Bytes(digest.Message), mail.Data);

        await UntilAsync(relay, () => relay.DigestsSent == 1);
        Assert.Empty(store.LoadPending());
        Assert.Equal(0, relay.QueueLength);
        Assert.Equal(0, relay.RelayFailures);
        Assert.Equal(Start, relay.LastSuccess);
        Assert.Null(relay.FirstFailureSince);
    }

    [Fact]
    public async Task BurstOfTwentyDigestsUsesOneConnectionInOrder()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer();
        var options = Options(dir, server.Address);
        var time = new FakeTimeProvider(Start);
        await using var relay = Relay(options, new MemoryMessageStore(), time);
        await using var running = Running.Start(relay);

        for (var i = 0; i < 20; i++)
        {
            await relay.SendAsync(Digest($"r{i}@example.com", $"alert {i}"), CancellationToken.None).AsTask().WaitAsync(Patience);
        }
        var received = new List<TestSmtpServer.ReceivedMail>();
        for (var i = 0; i < 20; i++)
        {
            received.Add(await server.ReceiveAsync());
        }

        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"r{i}@example.com"), received.Select(m => m.Recipients.Single()));
        Assert.Equal(1, server.Connections);
        Assert.All(received, m => Assert.Equal(1, m.Connection));
        await UntilAsync(relay, () => relay.DigestsSent == 20);
    }

    [Fact]
    public async Task IdleConnectionIsClosedWithQuit()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer();
        var options = Options(dir, server.Address);
        var time = new FakeTimeProvider(Start);
        await using var relay = Relay(options, new MemoryMessageStore(), time);
        await using var running = Running.Start(relay);

        await relay.SendAsync(Digest("ops@example.com", "x"), CancellationToken.None).AsTask().WaitAsync(Patience);
        await UntilAsync(relay, () => relay.DigestsSent == 1);
        Assert.Equal(0, server.Quits);

        time.Advance(relay.IdleTimeout);
        await UntilAsync(relay, () => server.Quits == 1);

        // The next digest opens a new connection.
        await relay.SendAsync(Digest("ops@example.com", "y"), CancellationToken.None).AsTask().WaitAsync(Patience);
        Assert.Equal(1, (await server.ReceiveAsync()).Connection);
        Assert.Equal(2, (await server.ReceiveAsync()).Connection);
    }

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
        var options = Options(dir, $"127.0.0.1:{ClosedPort()}") with
        {
            RetryMin = TimeSpan.FromMinutes(1),
            RetryMax = TimeSpan.FromMinutes(4),
            QueueLifetime = TimeSpan.FromMinutes(10),
        };
        var time = new FakeTimeProvider(Start);
        var store = new MemoryMessageStore();
        await using var relay = Relay(options, store, time);
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
    public async Task NewServiceOnTheSameQueueDeliversWhatTheFirstLeft()
    {
        using var dir = new TempDir();
        var store = new MemoryMessageStore();
        var time = new FakeTimeProvider(Start);
        var downOptions = Options(dir, $"127.0.0.1:{ClosedPort()}");
        await using (var first = Relay(downOptions, store, time))
        {
            await using var running = Running.Start(first);
            await first.SendAsync(Digest("a@example.com", "first"), CancellationToken.None).AsTask().WaitAsync(Patience);
            await first.SendAsync(Digest("b@example.com", "second"), CancellationToken.None).AsTask().WaitAsync(Patience);
            await UntilAsync(first, () => first.RelayFailures == 1);
            await running.StopAsync().WaitAsync(Patience);
            Assert.Equal(2, first.QueueLength);
        }
        Assert.Equal(2, store.LoadPending().Count);

        await using var server = new TestSmtpServer();
        var options = Options(dir, server.Address);
        await using var second = Relay(options, store, time);
        await using var again = Running.Start(second);
        Assert.Equal(["a@example.com"], (await server.ReceiveAsync()).Recipients);
        Assert.Equal(["b@example.com"], (await server.ReceiveAsync()).Recipients);
        await UntilAsync(second, () => second.DigestsSent == 2);
        Assert.Empty(store.LoadPending());
    }

    [Fact]
    public async Task ShutdownMakesOneLastAttemptDespiteTheBackoff()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer { RcptReply = "451 4.3.0 later" };
        var options = Options(dir, server.Address);
        var time = new FakeTimeProvider(Start);
        var store = new MemoryMessageStore();
        await using var relay = Relay(options, store, time);
        await using var running = Running.Start(relay);

        await relay.SendAsync(Digest("ops@example.com", "x"), CancellationToken.None).AsTask().WaitAsync(Patience);
        await UntilAsync(relay, () => relay.Retries == 1);
        server.RcptReply = null;
        await running.StopAsync().WaitAsync(Patience);

        Assert.Equal(["ops@example.com"], (await server.ReceiveAsync()).Recipients);
        Assert.Equal(1, relay.DigestsSent);
        Assert.Empty(store.LoadPending());
    }

    [Fact]
    public async Task AllDirGetsOneCopyOfEachDigest()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer { RcptReply = "451 4.3.0 later" };
        var options = Options(dir, server.Address) with { AllDir = Path.Combine(dir.Path, "all") };
        var time = new FakeTimeProvider(Start);
        await using var relay = Relay(options, new MemoryMessageStore(), time);
        await using var running = Running.Start(relay);
        var digest = Digest("ops@example.com", "x");

        await relay.SendAsync(digest, CancellationToken.None).AsTask().WaitAsync(Patience);
        await UntilAsync(relay, () => relay.Retries == 1);
        time.Advance(options.RetryMin);
        await UntilAsync(relay, () => relay.Retries == 2);

        var copy = Assert.Single(Directory.GetFiles(Path.Combine(options.AllDir, "new")));
        Assert.Equal(Bytes(digest.Message), await File.ReadAllBytesAsync(copy).WaitAsync(Patience));
    }

    [Fact]
    public async Task UnexpectedFaultBacksOffInsteadOfEndingTheWorker()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer();
        var options = Options(dir, server.Address);
        var time = new FakeTimeProvider(Start);
        var store = new FaultyReadStore { FailReads = true };
        await using var relay = Relay(options, store, time);
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

    // Against Postfix's smtp-sink, a real SMTP server (an external program).
    // smtp-sink writes LF line ends and one blank line after each message.
    private static string Lf(byte[] message) => Encoding.UTF8.GetString(message).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";

    [Fact]
    [Trait("Category", "EndToEnd")]
    public async Task SmtpSinkReceivesDigestsWithEnvelopeAndBytes()
    {
        using var dir = new TempDir();
        using var sink = await SmtpSink.StartAsync(Path.Combine(dir.Path, "dump")).WaitAsync(Patience);
        var options = Options(dir, sink.Address);
        var time = new FakeTimeProvider(Start);
        await using var relay = new RelayService(options, new MemoryMessageStore(), new SmtpRelayTransport(options, time), NullLoggerFactory.Instance, time);
        await using var running = Running.Start(relay);
        var first = Digest("a@example.com", "first");
        var second = Digest("b@example.com", "second");

        await relay.SendAsync(first, CancellationToken.None).AsTask().WaitAsync(Patience);
        await relay.SendAsync(second, CancellationToken.None).AsTask().WaitAsync(Patience);
        await UntilAsync(relay, () => relay.DigestsSent == 2);

        var dumps = sink.Dumps();
        Assert.Equal(2, dumps.Length);
        var forA = Assert.Single(dumps, d => d.Contains("X-Rcpt-Args: <a@example.com>\n", StringComparison.Ordinal));
        var forB = Assert.Single(dumps, d => d.Contains("X-Rcpt-Args: <b@example.com>\n", StringComparison.Ordinal));
        Assert.Contains("X-Mail-Args: <failmail@test.example>", forA, StringComparison.Ordinal);
        Assert.EndsWith(Lf(Bytes(first.Message)), forA, StringComparison.Ordinal);
        Assert.EndsWith(Lf(Bytes(second.Message)), forB, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "EndToEnd")]
    public async Task SmtpSinkSoftRejectIsRetriedAndDeliveredOnceItRecovers()
    {
        using var dir = new TempDir();
        var dump = Path.Combine(dir.Path, "dump");
        var sink = await SmtpSink.StartAsync(dump, 0, "-r", "RCPT").WaitAsync(Patience);
        try
        {
            var options = Options(dir, sink.Address);
            var time = new FakeTimeProvider(Start);
            await using var relay = new RelayService(options, new MemoryMessageStore(), new SmtpRelayTransport(options, time), NullLoggerFactory.Instance, time);
            await using var running = Running.Start(relay);

            await relay.SendAsync(Digest("a@example.com", "x"), CancellationToken.None).AsTask().WaitAsync(Patience);
            await UntilAsync(relay, () => relay.Retries == 1);
            Assert.Equal(1, relay.QueueLength);
            Assert.Empty(sink.Dumps());

            var port = sink.Port;
            sink.Dispose();
            sink = await SmtpSink.StartAsync(dump, port).WaitAsync(Patience);
            time.Advance(options.RetryMin);
            await UntilAsync(relay, () => relay.DigestsSent == 1);
            Assert.Single(sink.Dumps());
            Assert.Equal(0, relay.FailDirWrites);
        }
        finally
        {
            sink.Dispose();
        }
    }

    [Fact]
    [Trait("Category", "EndToEnd")]
    public async Task SmtpSinkHardRejectGoesToTheFailDirOnce()
    {
        using var dir = new TempDir();
        using var sink = await SmtpSink.StartAsync(Path.Combine(dir.Path, "dump"), 0, "-f", "RCPT").WaitAsync(Patience);
        var options = Options(dir, sink.Address);
        var time = new FakeTimeProvider(Start);
        var store = new MemoryMessageStore();
        await using var relay = new RelayService(options, store, new SmtpRelayTransport(options, time), NullLoggerFactory.Instance, time);
        await using var running = Running.Start(relay);
        var digest = Digest("a@example.com", "x");

        await relay.SendAsync(digest, CancellationToken.None).AsTask().WaitAsync(Patience);
        await UntilAsync(relay, () => relay.FailDirWrites == 1);

        var file = Assert.Single(FailDirFiles(options));
        Assert.Equal(Bytes(digest.Message), await File.ReadAllBytesAsync(file).WaitAsync(Patience));
        Assert.Empty(store.LoadPending());
        Assert.Empty(sink.Dumps());
    }
}
