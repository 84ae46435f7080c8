using System.Diagnostics.CodeAnalysis;

namespace Failmail.Maildir;

// The queue between the sessions and a committer thread: anyone adds, one dedicated thread
// blocks until something waits and then takes everything that waits as one group (one sync
// for all of it). Used by the LogWriter and by both GroupCommitter stages.
//
// A lock and Monitor.Wait/Pulse, not a Channel: a channel completes the waiting reader
// through a thread-pool work item, so every commit into an idle writer cost two wake-ups
// (a pool worker, then the writer) where one will do.
internal sealed class GroupQueue<T>
{
    private readonly object _lock = new();
    private List<T> _items = [];
    private bool _completed;
    private bool _waiting;

    // False once the queue is completed.
    public bool TryAdd(T item)
    {
        lock (_lock)
        {
            if (_completed)
            {
                return false;
            }
            _items.Add(item);
            if (_waiting)
            {
                Monitor.Pulse(_lock);
            }
            return true;
        }
    }

    // Takes no more; what is queued can still be taken.
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
            Monitor.PulseAll(_lock);
        }
    }

    // Blocks the calling (dedicated) thread until something is queued, then takes all of it;
    // false once the queue is completed and empty. Each group is a new list, so a caller may
    // hand it on while it takes the next.
    public bool TryTakeGroup([NotNullWhen(true)] out List<T>? group)
    {
        lock (_lock)
        {
            while (_items.Count == 0 && !_completed)
            {
                _waiting = true;
                Monitor.Wait(_lock);
                _waiting = false;
            }
            if (_items.Count == 0)
            {
                group = null;
                return false;
            }
            group = _items;
            _items = [];
            return true;
        }
    }

    // Whatever is queued right now, without waiting (after a crash: to fail it).
    public List<T> TakeRest()
    {
        lock (_lock)
        {
            var rest = _items;
            _items = [];
            return rest;
        }
    }
}
