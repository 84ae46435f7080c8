using System.Text;
using Failmail.Maildir;
using Failmail.Relay;
using Failmail.Tests.EndToEnd;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Failmail.Tests.Relay.RelayTestKit;

namespace Failmail.Tests.Relay;

// The running worker notices entries that another process (failmail resend) commits into
// the outgoing store, at its next --poll.
public class RelayServiceQueuePollTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static async Task<ReceivedMessage> CommitAsync(IMessageStore store, string recipient, DateTimeOffset received)
    {
        var draft = store.CreateDraft();
        await using (draft)
        {
            draft.Write(Encoding.ASCII.GetBytes($"From: failmail@test.example\r\nTo: {recipient}\r\nSubject: resent\r\n\r\nbody\r\n"));
            return await draft.CommitAsync(new Envelope("failmail@test.example", [recipient], received, ""), CancellationToken.None).AsTask().WaitAsync(Patience);
        }
    }

    // Advances the clock once the worker sleeps, then waits until it has woken, done its work
    // and gone to sleep again (a FakeTimeProvider fires only timers that exist: pitfall 9).
    private static async Task AdvanceAsync(RelayService relay, FakeTimeProvider time, TimeSpan by)
    {
        await UntilAsync(relay, () => true);
        var waits = relay.WaitCount;
        time.Advance(by);
        await relay.WaitForWaitAsync(waits + 1).WaitAsync(Patience);
    }

    [Fact]
    public async Task EntryAddedBehindTheWorkersBackIsSentOnceTwoPollsSawIt()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer();
        var options = Options(dir, server.Address) with { Poll = TimeSpan.FromSeconds(5) };
        var time = new FakeTimeProvider(Start);
        var store = new MemoryMessageStore();
        await using var relay = new RelayService(options, store, new SmtpRelayTransport(options, time), NullLoggerFactory.Instance, time) { IdleTimeout = TimeSpan.FromDays(1) };
        await using var running = Running.Start(relay);
        await UntilAsync(relay, () => true);

        await CommitAsync(store, "ops@example.com", Start);
        time.Advance(TimeSpan.FromSeconds(4)); // before the first poll: no wake-up
        Assert.Equal(0, relay.DigestsSent);

        // The first poll only sights it (a reload parent may be sending it right now) ...
        await AdvanceAsync(relay, time, TimeSpan.FromSeconds(1));
        Assert.Equal(0, relay.DigestsSent);
        Assert.Equal(0, relay.QueueLength);

        // ... the second one adopts it.
        time.Advance(TimeSpan.FromSeconds(5));
        var mail = await server.ReceiveAsync().WaitAsync(Patience);
        Assert.Equal(["ops@example.com"], mail.Recipients);
        await UntilAsync(relay, () => relay.DigestsSent == 1);
        Assert.Empty(store.LoadPending());

        // Later polls find nothing new: sent once.
        await AdvanceAsync(relay, time, TimeSpan.FromSeconds(5));
        await AdvanceAsync(relay, time, TimeSpan.FromSeconds(5));
        Assert.Equal(1, relay.DigestsSent);
        Assert.False(server.TryReceive(out _));
    }

    [Fact]
    public async Task ResentEntryCutsTheRelayDownBackoffShort()
    {
        using var dir = new TempDir();
        var port = FreePort.Next();
        var options = Options(dir, $"127.0.0.1:{port}") with { Poll = TimeSpan.FromSeconds(5), RetryMin = TimeSpan.FromMinutes(5), RetryMax = TimeSpan.FromMinutes(10) };
        var time = new FakeTimeProvider(Start);
        var store = new MemoryMessageStore();
        await using var relay = new RelayService(options, store, new SmtpRelayTransport(options, time), NullLoggerFactory.Instance, time);
        await using var running = Running.Start(relay);
        await relay.SendAsync(Digest("ops@example.com", "x"), CancellationToken.None).AsTask().WaitAsync(Patience);
        await UntilAsync(relay, () => relay.RelayFailures == 1);

        // The relay comes back on that port; an operator resends: no 5 minute wait.
        await using var server = new TestSmtpServer(port: port);
        await CommitAsync(store, "dev@example.com", Start);
        await AdvanceAsync(relay, time, TimeSpan.FromSeconds(5));
        time.Advance(TimeSpan.FromSeconds(5));
        var received = new[] { await server.ReceiveAsync().WaitAsync(Patience), await server.ReceiveAsync().WaitAsync(Patience) };
        Assert.Equal(["dev@example.com", "ops@example.com"], received.Select(m => m.Recipients.Single()).Order());
        await UntilAsync(relay, () => relay.DigestsSent == 2);
    }

    [Fact]
    public async Task SentEntryWhoseRemovalFailedIsNotSentAgain()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer();
        var options = Options(dir, server.Address) with { Poll = TimeSpan.FromSeconds(5) };
        var time = new FakeTimeProvider(Start);
        var store = new StickyStore();
        await using var relay = new RelayService(options, store, new SmtpRelayTransport(options, time), NullLoggerFactory.Instance, time) { IdleTimeout = TimeSpan.FromDays(1) };
        await using var running = Running.Start(relay);

        await relay.SendAsync(Digest("ops@example.com", "x"), CancellationToken.None).AsTask().WaitAsync(Patience);
        await server.ReceiveAsync().WaitAsync(Patience);
        await UntilAsync(relay, () => relay.DigestsSent == 1);
        Assert.Single(store.LoadPending());

        for (var i = 0; i < 3; i++)
        {
            await AdvanceAsync(relay, time, TimeSpan.FromSeconds(5));
        }
        Assert.Equal(1, relay.DigestsSent);
        Assert.False(server.TryReceive(out _));
    }

    // Remove does nothing, as when unlink fails (the store logs and carries on).
    private sealed class StickyStore : IMessageStore
    {
        private readonly MemoryMessageStore _inner = new();

        public IMessageDraft CreateDraft() => _inner.CreateDraft();

        public IReadOnlyList<ReceivedMessage> LoadPending() => _inner.LoadPending();

        public Stream OpenRead(string id) => _inner.OpenRead(id);

        public void Remove(IEnumerable<string> ids)
        {
        }
    }
}
