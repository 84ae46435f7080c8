namespace Failmail.Batching;

// Digests waiting to be handed to the sender, with their retry schedule. A failed hand-off is
// tried again after --poll, doubling per failure up to --retry-max (never below --poll): no
// retry storm. Single-threaded; times are monotonic ticks at the given frequency.
internal sealed class DigestOutbox(TimeSpan poll, TimeSpan retryMax, long frequency)
{
    private readonly List<Entry> _entries = new();

    public int Count => _entries.Count;

    public void Add(Digest digest) => _entries.Add(new Entry(digest));

    // A snapshot: the caller may Sent/Failed entries while walking it.
    public List<Entry> Due(long now) => _entries.Where(e => e.NextAttempt <= now).ToList();

    public List<Entry> All() => _entries.ToList();

    public void Sent(Entry entry) => _entries.Remove(entry);

    // Returns the delay until the next attempt.
    public TimeSpan Failed(Entry entry, long now)
    {
        ArgumentNullException.ThrowIfNull(entry);
        entry.Attempts++;
        var max = retryMax > poll ? retryMax : poll;
        var delay = poll * Math.Pow(2, Math.Min(entry.Attempts - 1, 30));
        if (delay > max)
        {
            delay = max;
        }
        entry.NextAttempt = now + (long)(delay.TotalSeconds * frequency);
        return delay;
    }

    internal sealed class Entry(Digest digest)
    {
        public Digest Digest { get; } = digest;
        public int Attempts { get; set; }
        public long NextAttempt { get; set; } = long.MinValue;
    }
}
