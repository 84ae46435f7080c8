using Failmail.Batching;
using Failmail.Maildir;
using Failmail.Outputs;
using Failmail.Relay;
using Failmail.Smtp;

namespace Failmail.Hosting;

// IFailmailStats read straight from the running services' own counters, so nothing is
// counted twice. A half that does not run in this process (--receiver or --sender alone)
// reads as zero.
internal sealed class ServiceStats : IFailmailStats
{
    // A store write probe at most this often: /healthz may be scraped every second.
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(10);

    private readonly IMessageStore _store;
    private readonly SmtpListener? _listener;
    private readonly BatcherService? _batcher;
    private readonly RelayService? _relay;
    private readonly TimeProvider _time;
    private readonly Lock _probeLock = new();
    private long _lastProbe = long.MinValue;
    private string? _storeProblem;

    private readonly Quarantine? _quarantine;
    private readonly PartWatch? _parts;

    public ServiceStats(IMessageStore store, SmtpListener? listener, BatcherService? batcher, RelayService? relay, TimeProvider time,
        Quarantine? quarantine = null, PartWatch? parts = null)
    {
        _quarantine = quarantine;
        _parts = parts;
        _store = store;
        _listener = listener;
        _batcher = batcher;
        _relay = relay;
        _time = time;
    }

    private Batching.BatcherStats Batcher => _batcher?.Stats ?? Batching.BatcherStats.Empty;

    public int ActiveBatches => Batcher.ActiveBatches;

    public int ActiveMessages => (int)Math.Min(int.MaxValue, Batcher.ActiveMessages);

    public DateTimeOffset LastReceived => Batcher.LastReceived;

    public long MessagesReceived => _listener?.MessagesAccepted ?? 0;

    public long MessagesRejected => _listener?.MessagesRejected ?? 0;

    public long DigestsSent => _relay?.DigestsSent ?? 0;

    public long RelayFailures => _relay?.RelayFailures ?? 0;

    public long RelayRetries => _relay?.Retries ?? 0;

    public long FaildirMessages => _relay?.FailDirWrites ?? 0;

    public long PendingMessages => Batcher.PendingMessages;

    public int SmtpSessions => _listener?.OpenSessions ?? 0;

    public DateTimeOffset? OldestPendingReceived =>
        Batcher.PendingMessages == 0 ? null : _time.GetUtcNow() - Batcher.OldestPendingAge;

    public HistogramSnapshot DigestSendDuration => _relay?.Counters.SendDuration.Snapshot() ?? new DurationHistogram().Snapshot();

    public string? StoreProblem
    {
        get
        {
            lock (_probeLock)
            {
                var now = _time.GetTimestamp();
                if (_lastProbe == long.MinValue || _time.GetElapsedTime(_lastProbe, now) >= ProbeInterval)
                {
                    _lastProbe = now;
                    _storeProblem = ProbeStore();
                }
                return _storeProblem;
            }
        }
    }

    public DateTimeOffset? RelayFailingSince => _relay?.FirstFailureSince;

    public long QuarantinedMessages => _quarantine?.Messages ?? 0;

    public long QuarantinedBatches => _quarantine?.Batches ?? 0;

    public long MessagesSilenced => _batcher?.Silenced ?? 0;

    public string? PartProblem => _parts?.Problem();

    public IReadOnlyList<RelayEndpointStats> RelayEndpoints => _relay?.Endpoints ?? [];

    // The outputs' status, read when /metrics or /healthz asks.
    public Func<IReadOnlyList<OutputStatus>>? OutputSource { get; init; }

    // --queue-lifetime: an output failing longer than this makes /healthz unhealthy.
    public TimeSpan OutputFailureThreshold { get; init; } = TimeSpan.FromDays(1);

    public IReadOnlyList<OutputStatus> Outputs => OutputSource?.Invoke() ?? [];

    public string? OutputProblem
    {
        get
        {
            var now = _time.GetUtcNow();
            foreach (var output in Outputs)
            {
                if (output.FailingSince is { } since && now - since > OutputFailureThreshold)
                {
                    return $"output {output.Id} failing since {GoSyntax.GoFormat.Rfc3339Nano(since)} ({(long)(now - since).TotalSeconds}s, threshold {(long)OutputFailureThreshold.TotalSeconds}s), {output.QueueDepth} queued";
                }
            }
            return null;
        }
    }

    private string? ProbeStore()
    {
        try
        {
            _store.CheckWritable();
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "incoming store is not writable: " + e.Message;
        }
    }
}
