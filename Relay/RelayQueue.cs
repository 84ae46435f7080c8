using Failmail.Maildir;

namespace Failmail.Relay;

// The in-memory index of the outgoing store, oldest first. SendAsync adds from the
// batcher's thread while the worker reads and removes: every access takes the lock.
internal sealed class RelayQueue
{
    private readonly Lock _lock = new();
    private readonly List<RelayQueueEntry> _entries = [];
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);

    public int Count
    {
        get { lock (_lock) { return _entries.Count; } }
    }

    public bool Contains(string id)
    {
        lock (_lock)
        {
            return _ids.Contains(id);
        }
    }

    public void Add(ReceivedMessage message)
    {
        lock (_lock)
        {
            if (_ids.Add(message.Id))
            {
                _entries.Add(new RelayQueueEntry(message));
            }
        }
    }

    // What the store held at start goes first; ids queued meanwhile are not duplicated.
    public void Load(IReadOnlyList<ReceivedMessage> pending)
    {
        lock (_lock)
        {
            var loaded = pending.Where(m => _ids.Add(m.Id)).Select(m => new RelayQueueEntry(m)).ToList();
            _entries.InsertRange(0, loaded);
        }
    }

    public void Remove(RelayQueueEntry entry)
    {
        lock (_lock)
        {
            _ = _entries.Remove(entry);
            _ = _ids.Remove(entry.Id);
        }
    }

    // The oldest entry due at `now`, else null and the earliest NotBefore (null when empty).
    public RelayQueueEntry? NextDue(long now, out long? earliest)
    {
        earliest = null;
        lock (_lock)
        {
            foreach (var entry in _entries)
            {
                if (entry.NotBefore <= now)
                {
                    return entry;
                }
                earliest = earliest is { } e ? Math.Min(e, entry.NotBefore) : entry.NotBefore;
            }
        }
        return null;
    }

    public List<RelayQueueEntry> Snapshot()
    {
        lock (_lock)
        {
            return [.. _entries];
        }
    }

    public List<RelayQueueEntry> Where(Func<RelayQueueEntry, bool> predicate)
    {
        lock (_lock)
        {
            return _entries.Where(predicate).ToList();
        }
    }
}
