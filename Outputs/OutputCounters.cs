namespace Failmail.Outputs;

// One output's counters for /metrics and /healthz; written by its worker, read by any thread.
internal sealed class OutputCounters
{
    private long _sent;
    private long _retried;
    private long _failed;
    private long _merged;
    private long _failingSinceTicks = long.MinValue;

    public long Sent => Interlocked.Read(ref _sent);
    public long Retried => Interlocked.Read(ref _retried);
    public long Failed => Interlocked.Read(ref _failed);
    public long Merged => Interlocked.Read(ref _merged);

    // Start of the current run of failed attempts (wall clock), null since the last success.
    public DateTimeOffset? FailingSince =>
        Interlocked.Read(ref _failingSinceTicks) is var t && t == long.MinValue ? null : new DateTimeOffset(t, TimeSpan.Zero);

    public void CountSent()
    {
        _ = Interlocked.Increment(ref _sent);
        Interlocked.Exchange(ref _failingSinceTicks, long.MinValue);
    }

    public void CountRetry(DateTimeOffset now)
    {
        _ = Interlocked.Increment(ref _retried);
        _ = Interlocked.CompareExchange(ref _failingSinceTicks, now.UtcTicks, long.MinValue);
    }

    public void CountFailed() => Interlocked.Increment(ref _failed);

    public void CountMerged(int digests) => Interlocked.Add(ref _merged, digests);
}
