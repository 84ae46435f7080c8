namespace Failmail.Batching;

// The stored bytes of each open group's newest message, kept from when the batcher read them
// for the keys, so the digest (which shows that message's body) need not read them back.
// Bounded: a message over MaxMessageBytes, or one that would take the total over the budget,
// is not kept, and its digest reads the store as before. Single-threaded (the batcher loop).
//
// A group is (batch key, recipient, group key). An entry is used only when its id is the
// group's LastMessageId in the due batch: after a batch closes at its cap, the next message
// of the same keys starts a new batch and replaces the entry, and the closed batch's digest
// then reads its message from the store.
internal sealed class NewestMessages(long budgetBytes = NewestMessages.DefaultBudgetBytes)
{
    // Small beside the 64 MB RSS goal for a 20,000-message storm (issue 2).
    public const long DefaultBudgetBytes = 8L * 1024 * 1024;
    public const int MaxMessageBytes = 64 * 1024;

    private readonly Dictionary<(string BatchKey, string Recipient, string GroupKey), (string Id, byte[] Bytes)> _entries = new();

    public int Count => _entries.Count;

    // Bytes held, counted once per entry (a message for two recipients counts twice).
    public long Bytes { get; private set; }

    // id (with these bytes) is now the newest message of its group; null bytes: it is, but
    // its bytes are not kept (over MaxMessageBytes), so its digest reads the store.
    public void Add(string batchKey, string recipient, string groupKey, string id, byte[]? bytes)
    {
        var key = (batchKey, recipient, groupKey);
        if (_entries.Remove(key, out var old))
        {
            Bytes -= old.Bytes.Length;
        }
        if (bytes is null || bytes.Length > MaxMessageBytes || Bytes + bytes.Length > budgetBytes)
        {
            return;
        }
        _entries.Add(key, (id, bytes));
        Bytes += bytes.Length;
    }

    // The bytes of message id if they are held as its group's newest; the entry goes.
    public byte[]? Take(string batchKey, string recipient, string groupKey, string id)
    {
        var key = (batchKey, recipient, groupKey);
        if (!_entries.TryGetValue(key, out var entry) || !string.Equals(entry.Id, id, StringComparison.Ordinal))
        {
            return null;
        }
        _entries.Remove(key);
        Bytes -= entry.Bytes.Length;
        return entry.Bytes;
    }
}
