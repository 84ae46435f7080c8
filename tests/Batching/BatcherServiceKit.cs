using System.Collections.Concurrent;
using System.Text;
using Failmail.Batching;
using Failmail.Maildir;
using Failmail.Relay;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Failmail.Tests.Batching;

// One BatcherService over a MemoryMessageStore and a recording sender, driven by a
// FakeTimeProvider: each BatcherService*Tests class owns one and disposes it (stop, then wait).
internal sealed class BatcherServiceKit : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan Poll = TimeSpan.FromSeconds(5);
    public static readonly DateTimeOffset T0 = new(2014, 7, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly CancellationTokenSource _stop = new();
    private BatcherService? _service;
    private Task? _run;

    public FakeTimeProvider Time { get; } = new(T0);

    public MemoryMessageStore Store { get; } = new();

    public RecordingSender Sender { get; } = new();

    public static FailmailOptions Options(string groupExpr = "{{.Header.Get \"Subject\"}}") => new()
    {
        From = "failmail@test.example",
        WaitPeriod = TimeSpan.FromSeconds(30),
        MaxWait = TimeSpan.FromMinutes(5),
        Poll = Poll,
        RetryMax = TimeSpan.FromSeconds(20),
        GroupExpr = groupExpr,
    };

    // store: the service's view of Store (a wrapper that counts reads, say); Store by default.
    public async Task<BatcherService> StartAsync(FailmailOptions? options = null, bool pollStore = false, IMessageStore? store = null,
        TimeSpan intakeGather = default, Quarantine? quarantine = null, SilenceGate? silences = null)
    {
        _service = new BatcherService(options ?? Options(), store ?? Store, Sender, NullLoggerFactory.Instance, Time, pollStore, intakeGather, quarantine)
        {
            Silences = silences,
        };
        _run = _service.RunAsync(_stop.Token);
        await _service.WaitIdleAsync().WaitAsync(Patience);
        return _service;
    }

    public async Task<ReceivedMessage> StoreAsync(string subject, DateTimeOffset? received = null, string extraHeaders = "", params string[] to)
    {
        var draft = Store.CreateDraft();
        await using (draft.ConfigureAwait(false))
        {
            draft.Write(Encoding.UTF8.GetBytes($"Subject: {subject}\r\n{extraHeaders}\r\nbody of {subject}\r\n"));
            var envelope = new Envelope("app@example.com", to.Length == 0 ? new[] { "ops@example.com" } : to, received ?? Time.GetUtcNow(), "127.0.0.1");
            return await draft.CommitAsync(envelope, CancellationToken.None).AsTask().WaitAsync(Patience);
        }
    }

    // Exactly these bytes, from the null sender to ops@example.com, received now.
    public async Task<ReceivedMessage> StoreRawAsync(byte[] bytes)
    {
        var draft = Store.CreateDraft();
        await using (draft.ConfigureAwait(false))
        {
            draft.Write(bytes);
            return await draft.CommitAsync(new Envelope("", new[] { "ops@example.com" }, Time.GetUtcNow(), "127.0.0.1"), CancellationToken.None).AsTask().WaitAsync(Patience);
        }
    }

    public async Task AcceptAsync(ReceivedMessage message)
    {
        Assert.NotNull(_service);
        await _service.AcceptAsync(message, CancellationToken.None).AsTask().WaitAsync(Patience);
        await _service.WaitIdleAsync().WaitAsync(Patience);
    }

    // One poll interval: advance only while the service is parked on its timer (pitfall 9),
    // then wait until that tick has been processed.
    public async Task TickAsync(int count = 1)
    {
        Assert.NotNull(_service);
        for (var i = 0; i < count; i++)
        {
            var ticks = _service.TicksProcessed;
            await _service.WaitIdleAsync(ticks).WaitAsync(Patience);
            Time.Advance(Poll);
            await _service.WaitIdleAsync(ticks + 1).WaitAsync(Patience);
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null)
        {
            await _run.WaitAsync(Patience);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    internal sealed class CountingStore(MemoryMessageStore inner) : IMessageStore
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public IMessageDraft CreateDraft() => inner.CreateDraft();

        public IReadOnlyList<ReceivedMessage> LoadPending() => inner.LoadPending();

        public Stream OpenRead(string id)
        {
            Interlocked.Increment(ref _reads);
            return inner.OpenRead(id);
        }

        public void Remove(IEnumerable<string> ids) => inner.Remove(ids);
    }

    internal sealed class RecordingSender : IDigestSender
    {
        private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);
        private readonly ConcurrentQueue<Digest> _sent = new();
        private int _attempts;

        public IReadOnlyList<Digest> Sent => _sent.ToList();

        public int Attempts => Volatile.Read(ref _attempts);

        public void FailFor(string recipient, int times) => _failures[recipient] = times;

        public ValueTask SendAsync(Digest digest, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _attempts);
            if (_failures.TryGetValue(digest.Recipient, out var left) && left > 0)
            {
                _failures[digest.Recipient] = left - 1;
                throw new IOException("disk full");
            }
            _sent.Enqueue(digest);
            return ValueTask.CompletedTask;
        }
    }
}
