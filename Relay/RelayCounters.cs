namespace Failmail.Relay;

// Numbers for metrics and health, written by the relay worker, read from anywhere.
internal sealed class RelayCounters
{
    private readonly Lock _lock = new();
    private long _sent;
    private long _failures;
    private long _retries;
    private long _failDirWrites;
    private DateTimeOffset? _lastSuccess;
    private DateTimeOffset? _firstFailureSince;

    // Messages relayed: digests, and --relay-all originals.
    public long Sent => Interlocked.Read(ref _sent);

    // Failed attempts of any class.
    public long Failures => Interlocked.Read(ref _failures);

    // Failed attempts that were rescheduled (4xx, or the relay down with mail queued).
    public long Retries => Interlocked.Read(ref _retries);

    public long FailDirWrites => Interlocked.Read(ref _failDirWrites);

    // How long each delivery attempt took, successful or not (/metrics).
    public DurationHistogram SendDuration { get; } = new();

    public DateTimeOffset? LastSuccess
    {
        get { lock (_lock) { return _lastSuccess; } }
    }

    // The first transient failure since the last success; null while the relay is healthy.
    public DateTimeOffset? FirstFailureSince
    {
        get { lock (_lock) { return _firstFailureSince; } }
    }

    public void Succeeded(DateTimeOffset now)
    {
        Interlocked.Increment(ref _sent);
        lock (_lock)
        {
            _lastSuccess = now;
            _firstFailureSince = null;
        }
    }

    public void Failed() => Interlocked.Increment(ref _failures);

    public void Retried() => Interlocked.Increment(ref _retries);

    public void WroteFailDir() => Interlocked.Increment(ref _failDirWrites);

    public void Unhealthy(DateTimeOffset now)
    {
        lock (_lock)
        {
            _firstFailureSince ??= now;
        }
    }
}
