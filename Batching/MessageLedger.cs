namespace Failmail.Batching;

// Which stored messages the batcher holds and how many of their digests are still out.
// A message is in one digest per recipient; it may leave the store only when all of them have
// been handed on (failmail removed it after the first one: spec §3.6). Single-threaded.
internal sealed class MessageLedger
{
    // Digests still out per message, and its envelope sender (for a quarantine file).
    private readonly Dictionary<string, (int Left, string From)> _remaining = new(StringComparer.Ordinal);
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Queue<(string Id, DateTimeOffset Received)> _order = new();

    // Messages with digests still out.
    public int Pending => _remaining.Count;

    // False when the id is already held (the store listed it again, or it was queued twice).
    public bool TryTrack(string id) => _seen.Add(id);

    // Stops tracking an id that could not be batched, so a later listing tries it again.
    public void Forget(string id) => _seen.Remove(id);

    public void Expect(string id, int digests, DateTimeOffset received, string from = "")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(digests, 1);
        _remaining[id] = (digests, from);
        _order.Enqueue((id, received));
    }

    // Counts one digest down for each id; returns the ids whose last digest this was.
    public List<string> Delivered(IEnumerable<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var done = new List<string>();
        foreach (var id in ids)
        {
            if (!_remaining.TryGetValue(id, out var left))
            {
                continue;
            }
            if (left.Left <= 1)
            {
                _remaining.Remove(id);
                done.Add(id);
            }
            else
            {
                _remaining[id] = (left.Left - 1, left.From);
            }
        }
        return done;
    }

    // The envelope sender of a message with digests still out ("" when unknown).
    public string From(string id) => _remaining.TryGetValue(id, out var entry) ? entry.From : "";

    // The ids are gone from the store: a later listing will not show them again.
    public void Removed(IEnumerable<string> ids) => _seen.ExceptWith(ids);

    // Receive time of the oldest message with digests still out, if any.
    public DateTimeOffset? OldestPending()
    {
        while (_order.Count > 0 && !_remaining.ContainsKey(_order.Peek().Id))
        {
            _order.Dequeue();
        }
        return _order.Count > 0 ? _order.Peek().Received : null;
    }
}
