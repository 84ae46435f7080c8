using Failmail.Maildir;
using Microsoft.Extensions.Logging;

namespace Failmail.Batching;

// Both ends of a digest's way out, on the BatcherService loop: builds a due batch's digest
// into the outbox, and once the sender has taken one, counts its messages down in the ledger
// and removes from the store those whose last digest it was. Single-threaded, except that
// DigestsSent may be read from any thread (the stats snapshot).
internal sealed class DigestHandOff(
    IMessageStore store,
    DigestBuilder builder,
    NewestMessages newest,
    MessageLedger ledger,
    DigestOutbox outbox,
    TimeProvider time,
    ILogger logger)
{
    private readonly List<HeaderSpan> _headerSpans = new();
    private long _digestsSent;

    public long DigestsSent => Interlocked.Read(ref _digestsSent);

    public void Enqueue(DueBatch due)
    {
        var held = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var group in due.Groups)
        {
            if (newest.Take(due.BatchKey, due.Recipient, group.Key, group.LastMessageId) is { } bytes)
            {
                held[group.LastMessageId] = bytes;
            }
        }
        var digest = builder.BuildWithBodies(due, id => LoadBody(id, held.GetValueOrDefault(id)), time.GetUtcNow());
        outbox.Add(digest);
    }

    // The sender has taken the digest (relayed, queued durably, or in the fail-dir).
    public void Sent(DigestOutbox.Entry item)
    {
        outbox.Sent(item);
        Interlocked.Increment(ref _digestsSent);
        BatchLog.DigestSent(logger, item.Digest.Recipient, item.Digest.BatchKey, item.Digest.MessageIds.Count);
        var done = ledger.Delivered(item.Digest.MessageIds);
        if (done.Count == 0)
        {
            return;
        }
        try
        {
            store.Remove(done);
            ledger.Removed(done);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            BatchLog.RemoveFailed(logger, e, done.Count);
        }
    }

    // A digest shows the body of each group's last message: from the bytes kept since it was
    // batched, else read back from the store; plain ones skip MimeKit.
    private string LoadBody(string id, byte[]? held)
    {
        if ((held ?? StoredMessages.Read(store, id, logger)) is not { } bytes)
        {
            return DigestBuilder.NoLongerStored;
        }
        return MessageText.TryPlainBody(bytes, _headerSpans, out var body)
            ? body
            : MessageText.Body(StoredMessages.Parse(bytes, id, logger));
    }
}
