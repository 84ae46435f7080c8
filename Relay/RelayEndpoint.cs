using Failmail.Timing;

namespace Failmail.Relay;

// One relay of the --relay-addr failover list and what the worker has learnt about it: how
// often it was tried, found unusable and used, and until when it is skipped after failing
// (--retry-min doubling to --retry-max per failure in a row, reset once it answers).
// Written by the relay worker only; read by /metrics from any thread (the lock).
internal sealed class RelayEndpoint
{
    private readonly Lock _lock = new();
    private long _attempts;
    private long _failures;
    private long _sent;
    private int _failuresInRow;
    private long _skipUntil;
    private string? _lastError;

    public RelayEndpoint(string name, IRelayTransport transport)
    {
        Name = name;
        Transport = transport;
    }

    // The relay's URL (smtp://host:25), its label in logs and metrics.
    public string Name { get; }

    public IRelayTransport Transport { get; }

    // A TimeProvider timestamp: the relay is skipped before it. 0 = usable.
    public long SkipUntil
    {
        get { lock (_lock) { return _skipUntil; } }
    }

    public bool IsSkipped(long now) => now < SkipUntil;

    public void Attempted()
    {
        lock (_lock)
        {
            _attempts++;
        }
    }

    // The relay answered (250, or a 4xx/5xx about the message): it works.
    public bool Answered(bool sent)
    {
        lock (_lock)
        {
            if (sent)
            {
                _sent++;
            }
            var wasFailing = _failuresInRow > 0;
            _failuresInRow = 0;
            _skipUntil = 0;
            _lastError = null;
            return wasFailing;
        }
    }

    // The relay could not be used: skipped for the next step of its backoff. Returns the delay.
    public TimeSpan Failed(string reason, long now, TimeProvider time, TimeSpan retryMin, TimeSpan retryMax)
    {
        lock (_lock)
        {
            _failures++;
            _failuresInRow++;
            _lastError = reason;
            var delay = Backoff.Delay(_failuresInRow, retryMin, retryMax);
            _skipUntil = now + MonotonicTime.ToTicks(time, delay);
            return delay;
        }
    }

    public RelayEndpointStats Snapshot(long now, TimeProvider time)
    {
        lock (_lock)
        {
            var backoff = now < _skipUntil ? time.GetElapsedTime(now, _skipUntil) : TimeSpan.Zero;
            return new RelayEndpointStats(Name, _attempts, _failures, _sent, backoff, _lastError);
        }
    }
}
