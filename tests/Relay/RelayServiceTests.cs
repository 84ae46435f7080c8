using Failmail.Maildir;
using Failmail.Tests.EndToEnd;
using Microsoft.Extensions.Time.Testing;
using static Failmail.Tests.Relay.RelayTestKit;

namespace Failmail.Tests.Relay;

// The worker against a relay that takes the mail: bytes and envelope, one connection per
// burst, the idle close, a queue left by an earlier service, the shutdown drain, --all-dir.
public class RelayServiceTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task DigestReachesTheRelayWithItsEnvelopeAndUnchangedBytes()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer();
        var options = Options(dir, server.Address);
        var time = new FakeTimeProvider(Start);
        var store = new MemoryMessageStore();
        await using var relay = NewRelay(options, store, time);
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
        await using var relay = NewRelay(options, new MemoryMessageStore(), time);
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
        await using var relay = NewRelay(options, new MemoryMessageStore(), time);
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
    public async Task NewServiceOnTheSameQueueDeliversWhatTheFirstLeft()
    {
        using var dir = new TempDir();
        var store = new MemoryMessageStore();
        var time = new FakeTimeProvider(Start);
        using var down = new RefusedPort();
        var downOptions = Options(dir, down.Address);
        await using (var first = NewRelay(downOptions, store, time))
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
        await using var second = NewRelay(options, store, time);
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
        await using var relay = NewRelay(options, store, time);
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
        await using var relay = NewRelay(options, new MemoryMessageStore(), time);
        await using var running = Running.Start(relay);
        var digest = Digest("ops@example.com", "x");

        await relay.SendAsync(digest, CancellationToken.None).AsTask().WaitAsync(Patience);
        await UntilAsync(relay, () => relay.Retries == 1);
        time.Advance(options.RetryMin);
        await UntilAsync(relay, () => relay.Retries == 2);

        var copy = Assert.Single(Directory.GetFiles(Path.Combine(options.AllDir, "new")));
        Assert.Equal(Bytes(digest.Message), await File.ReadAllBytesAsync(copy).WaitAsync(Patience));
    }
}
