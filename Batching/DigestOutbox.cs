using Failmail.Timing;
using MimeKit;

namespace Failmail.Batching;

// Digests waiting to be handed to the sender, with their retry schedule. A failed hand-off is
// tried again after --poll, doubling per failure up to --retry-max (never below --poll): no
// retry storm. Single-threaded; times are monotonic ticks at the given frequency.
//
// An entry may hold how to build its digest rather than the digest: one message to 100
// recipients closes 100 batches in one tick, and their digests are built one hand-off wave at
// a time (BatcherService), not all at once. A sent entry lets go of its digest.
internal sealed class DigestOutbox(TimeSpan poll, TimeSpan retryMax, long frequency)
{
    private readonly List<Entry> _entries = new();

    public int Count => _entries.Count;

    public void Add(Digest digest) => _entries.Add(new Entry(digest, null));

    // build runs once, when the digest is first needed (Entry.TryBuild); null from it means
    // the batch could not be digested (its messages went to the quarantine).
    public void Add(Func<Digest?> build) => _entries.Add(new Entry(null, build));

    // A snapshot: the caller may Sent/Failed entries while walking it.
    public List<Entry> Due(long now) => _entries.Where(e => e.NextAttempt <= now).ToList();

    public List<Entry> All() => _entries.ToList();

    // Sent, or settled otherwise (quarantined): the entry leaves the outbox.
    public void Sent(Entry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        _entries.Remove(entry);
        entry.Release();
    }

    // Returns the delay until the next attempt.
    public TimeSpan Failed(Entry entry, long now)
    {
        ArgumentNullException.ThrowIfNull(entry);
        entry.Attempts++;
        var delay = Backoff.Delay(entry.Attempts, poll, retryMax > poll ? retryMax : poll);
        entry.NextAttempt = now + (long)(delay.TotalSeconds * frequency);
        return delay;
    }

    internal sealed class Entry
    {
        private Digest? _digest;
        private Func<Digest?>? _build;

        public Entry(Digest? digest, Func<Digest?>? build)
        {
            _digest = digest;
            _build = build;
        }

        // Built on first use and kept for retries until the entry is sent. False when the
        // batch could not be digested: the caller drops the entry (Sent) and sends nothing.
        public bool TryBuild([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Digest? digest)
        {
            if (_digest is null && _build is { } build)
            {
                _build = null;
                _digest = build();
            }
            digest = _digest;
            return digest is not null;
        }

        // Only after a successful TryBuild.
        public Digest Digest => _digest ?? throw new InvalidOperationException("the outbox entry has no digest");

        public int Attempts { get; set; }
        public long NextAttempt { get; set; } = long.MinValue;

        // Roughly what the digest takes in memory and serialised: its parts' content.
        public long SizeHint => _digest is null ? 0 : ContentBytes(_digest.Message.Body);

        public void Release()
        {
            _digest = null;
            _build = null;
        }

        private static long ContentBytes(MimeEntity? entity) => entity switch
        {
            MimePart { Content.Stream: { CanSeek: true } stream } => stream.Length + 1024,
            Multipart multipart => multipart.Sum(ContentBytes) + 1024,
            MessagePart { Message: { } inner } => ContentBytes(inner.Body) + 4096,
            _ => 4096,
        };
    }
}
