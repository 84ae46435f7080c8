using Failmail.Batching;
using Failmail.Maildir;
using Failmail.Timing;
using Microsoft.Extensions.Logging;

namespace Failmail.Relay;

// Keeps the worker's in-memory queue and the outgoing store in step: Forget takes an entry
// the worker is done with out of both, and a poll adopts entries that another process
// (`failmail resend` while this one runs) committed to the store. Used by the relay worker
// only, between attempts, so no Forget is half done during a poll.
internal sealed class RelayQueueSync
{
    private readonly IMessageStore _outgoing;
    private readonly RelayQueue _queue;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    // Ids this worker took out of the queue (sent, fail-dir, vanished). A poll must not
    // bring one back while its files linger (a failed Remove), or it would be sent again
    // every poll; an id leaves this set once a poll no longer finds it in the store.
    private readonly HashSet<string> _forgotten = new(StringComparer.Ordinal);
    // Unknown ids the last poll saw. An id is adopted only when two polls in a row see it:
    // during a reload the parent's worker still sends what its batcher queues, within
    // milliseconds, and adopting such an entry at once would send it twice.
    private HashSet<string> _sighted = new(StringComparer.Ordinal);

    public RelayQueueSync(IMessageStore outgoing, RelayQueue queue, TimeProvider time, ILogger logger)
    {
        _outgoing = outgoing;
        _queue = queue;
        _time = time;
        _logger = logger;
    }

    // A TimeProvider timestamp: when the next poll is due.
    public long NextPoll { get; private set; }

    public void SchedulePoll(long now, TimeSpan interval) => NextPoll = now + MonotonicTime.ToTicks(_time, interval);

    // Scans the store and adopts what two polls in a row found; returns how many. A scan
    // reads every queued envelope, so the next one waits at least 10x this scan's duration.
    public int Poll(long now, TimeSpan interval)
    {
        IReadOnlyList<ReceivedMessage> pending;
        try
        {
            pending = _outgoing.LoadPending();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            RelayLog.PollFailed(_logger, e.Message);
            SchedulePoll(now, interval);
            return 0;
        }
        var took = _time.GetTimestamp() - now;
        NextPoll = now + Math.Max(MonotonicTime.ToTicks(_time, interval), 10 * took);
        var present = new HashSet<string>(StringComparer.Ordinal);
        var sighted = new HashSet<string>(StringComparer.Ordinal);
        var found = new List<ReceivedMessage>();
        foreach (var message in pending)
        {
            _ = present.Add(message.Id);
            if (_forgotten.Contains(message.Id) || _queue.Contains(message.Id))
            {
                continue;
            }
            if (_sighted.Contains(message.Id))
            {
                found.Add(message);
            }
            else
            {
                _ = sighted.Add(message.Id);
            }
        }
        _forgotten.IntersectWith(present);
        _sighted = sighted;
        if (found.Count == 0)
        {
            return 0;
        }
        foreach (var message in found)
        {
            _queue.Add(message);
        }
        RelayLog.FoundInQueue(_logger, found.Count);
        return found.Count;
    }

    public void Forget(RelayQueueEntry entry)
    {
        _ = _forgotten.Add(entry.Id);
        _queue.Remove(entry);
        try
        {
            _outgoing.Remove([entry.Id]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // It is out (relayed or in the fail-dir); at worst a restart sends it again.
            RelayLog.RemoveFailed(_logger, entry.Id, e.Message);
        }
    }
}
