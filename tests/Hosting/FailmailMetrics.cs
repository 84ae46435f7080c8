using Failmail.Hosting;
using Failmail.Relay;

namespace Failmail.Tests.Hosting;

// A settable IFailmailStats for the HTTP and Prometheus tests: counters the test bumps and
// gauges read through callbacks, standing in for ServiceStats over running services.
internal sealed class FailmailMetrics : IFailmailStats
{
    private readonly DurationHistogram _digestSendDuration = new();
    private Func<SpecBatcherStats>? _batcher;
    private Func<StoreStats>? _store;
    private long _received;
    private long _rejected;
    private long _digestsSent;
    private long _relayFailures;
    private long _relayRetries;
    private long _faildir;
    private int _sessions;
    private string? _storeProblem;
    private StrongBox<DateTimeOffset>? _relayFailingSince;

    // The failover list's relays, as a test sets them.
    public IReadOnlyList<RelayEndpointStats> RelayEndpoints { get; set; } = [];

    public void ObserveBatcher(Func<SpecBatcherStats> source) => Volatile.Write(ref _batcher, source);

    public void ObserveStore(Func<StoreStats> source) => Volatile.Write(ref _store, source);

    // SMTP: a message committed to the store and acknowledged with 250.
    public void MessageReceived() => Interlocked.Increment(ref _received);

    // SMTP: a message refused (size, full queue, store failure, ...).
    public void MessageRejected() => Interlocked.Increment(ref _rejected);

    public void SmtpSessionOpened() => Interlocked.Increment(ref _sessions);

    public void SmtpSessionClosed() => Interlocked.Decrement(ref _sessions);

    // Store: a write failed (the reason goes to /healthz) or succeeded again.
    public void StoreWriteFailed(string reason) => Volatile.Write(ref _storeProblem, reason);

    public void StoreWriteSucceeded() => Volatile.Write(ref _storeProblem, null);

    // Relay: a digest delivered upstream; ends any run of failures.
    public void DigestSent()
    {
        Interlocked.Increment(ref _digestsSent);
        Volatile.Write(ref _relayFailingSince, null);
    }

    // Relay: how long one delivery attempt of a digest took, successful or not.
    public void RecordDigestSendDuration(TimeSpan duration) => _digestSendDuration.Observe(duration);

    // Relay: an attempt failed at `now`; the first failure of a run starts the health clock.
    public void RelayFailed(DateTimeOffset now)
    {
        Interlocked.Increment(ref _relayFailures);
        Interlocked.CompareExchange(ref _relayFailingSince, new StrongBox<DateTimeOffset>(now), null);
    }

    public void RelayRetried() => Interlocked.Increment(ref _relayRetries);

    public void MovedToFaildir(int messages = 1) => Interlocked.Add(ref _faildir, messages);

    public int ActiveBatches => Batcher.ActiveBatches;

    public int ActiveMessages => Batcher.ActiveMessages;

    public DateTimeOffset LastReceived => Batcher.LastReceived;

    public long MessagesReceived => Interlocked.Read(ref _received);

    public long MessagesRejected => Interlocked.Read(ref _rejected);

    public long DigestsSent => Interlocked.Read(ref _digestsSent);

    public long RelayFailures => Interlocked.Read(ref _relayFailures);

    public long RelayRetries => Interlocked.Read(ref _relayRetries);

    public long FaildirMessages => Interlocked.Read(ref _faildir);

    public long PendingMessages => Store.PendingMessages;

    public int SmtpSessions => Volatile.Read(ref _sessions);

    public DateTimeOffset? OldestPendingReceived => Store.OldestPendingReceived;

    public HistogramSnapshot DigestSendDuration => _digestSendDuration.Snapshot();

    public string? StoreProblem => Volatile.Read(ref _storeProblem);

    public DateTimeOffset? RelayFailingSince => Volatile.Read(ref _relayFailingSince)?.Value;

    // The real watch over whatever parts a test registers.
    public PartWatch? Parts { get; set; }

    public string? PartProblem => Parts?.Problem();

    private SpecBatcherStats Batcher => Volatile.Read(ref _batcher)?.Invoke() ?? SpecBatcherStats.Empty;

    private StoreStats Store => Volatile.Read(ref _store)?.Invoke() ?? StoreStats.Empty;

    // A boxed value so the "failing since" time can be swapped atomically.
    private sealed class StrongBox<T>(T value)
    {
        public T Value { get; } = value;
    }
}
