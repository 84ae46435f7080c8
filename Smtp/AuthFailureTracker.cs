namespace Failmail.Smtp;

// Wrong AUTH attempts per client IP, across connections: a guesser that reconnects after
// every SmtpLimits.MaxAuthFailures still meets a growing delay, and after MaxFailures within
// Window its AUTH commands get 421 until the window has passed. Bounded: at most Capacity
// addresses are remembered; expired entries go first, then the oldest. A success clears the
// address (a legitimate client behind the same NAT as a typo is not punished for long).
internal sealed class AuthFailureTracker
{
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public AuthFailureTracker(TimeProvider time, int maxFailures = 10, TimeSpan? window = null, int capacity = 10_000,
        TimeSpan? maxDelay = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        MaxFailures = Math.Max(maxFailures, 1);
        Window = window ?? TimeSpan.FromMinutes(15);
        Capacity = Math.Max(capacity, 1);
        MaxDelay = maxDelay ?? TimeSpan.FromSeconds(30);
    }

    public int MaxFailures { get; }
    public TimeSpan Window { get; }
    public int Capacity { get; }
    public TimeSpan MaxDelay { get; }

    public int Count
    {
        get { lock (_lock) { return _entries.Count; } }
    }

    // Failures of this address within the current window.
    public int Failures(string client)
    {
        lock (_lock)
        {
            return Current(client, _time.GetTimestamp()) is { } entry ? entry.Failures : 0;
        }
    }

    public bool IsBlocked(string client) => client.Length > 0 && Failures(client) >= MaxFailures;

    // Records one failure; returns the delay before the 535 reply: one second per failure of
    // this address in the window, at most MaxDelay.
    public TimeSpan RecordFailure(string client)
    {
        if (client.Length == 0)
        {
            return TimeSpan.Zero;
        }
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            var entry = Current(client, now);
            if (entry is null)
            {
                MakeRoom(now);
                entry = new Entry(now);
                _entries[client] = entry;
            }
            entry.Failures++;
            return TimeSpan.FromSeconds(Math.Min(entry.Failures, MaxDelay.TotalSeconds));
        }
    }

    public void RecordSuccess(string client)
    {
        lock (_lock)
        {
            _ = _entries.Remove(client);
        }
    }

    private Entry? Current(string client, long now)
    {
        if (!_entries.TryGetValue(client, out var entry))
        {
            return null;
        }
        if (_time.GetElapsedTime(entry.Since, now) >= Window)
        {
            _ = _entries.Remove(client);
            return null;
        }
        return entry;
    }

    // Called only when a new address arrives at a full table: O(n) then, never per failure.
    private void MakeRoom(long now)
    {
        if (_entries.Count < Capacity)
        {
            return;
        }
        foreach (var (client, entry) in _entries.ToList())
        {
            if (_time.GetElapsedTime(entry.Since, now) >= Window)
            {
                _ = _entries.Remove(client);
            }
        }
        if (_entries.Count >= Capacity)
        {
            var oldest = _entries.MinBy(e => e.Value.Since).Key;
            _ = _entries.Remove(oldest);
        }
    }

    private sealed class Entry(long since)
    {
        public long Since { get; } = since;
        public int Failures { get; set; }
    }
}
