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
    MessageReadBuffer buffer,
    Quarantine? quarantine,
    TimeProvider time,
    ILogger logger)
{
    // The shown bodies kept for the digests of one round (ForgetBodies): one message to 100
    // recipients is in 100 digests, and its body was read, decoded and held once for each.
    // Bounded; each body is at most MessageText.MaxBodyChars and a note.
    public const long BodyCacheChars = 4L * 1024 * 1024;

    private readonly List<HeaderSpan> _headerSpans = new();
    private readonly Dictionary<string, string> _bodies = new(StringComparer.Ordinal);
    private long _bodyChars;
    private long _digestsSent;
    private long _batchesQuarantined;
    private readonly List<IReadOnlyList<string>> _sent = new();

    public long DigestsSent => Interlocked.Read(ref _digestsSent);

    // The batch's digest is built when the outbox entry is first handed over (see
    // DigestOutbox); the newest messages' bytes are taken now, while they are the groups'.
    public void Enqueue(DueBatch due)
    {
        ArgumentNullException.ThrowIfNull(due);
        Dictionary<string, byte[]>? held = null;
        foreach (var group in due.Groups)
        {
            if (newest.Take(due.BatchKey, due.Recipient, group.Key, group.LastMessageId) is { } bytes)
            {
                held ??= new Dictionary<string, byte[]>(StringComparer.Ordinal);
                held[group.LastMessageId] = bytes;
            }
        }
        outbox.Add(() => Build(due, held));
    }

    // Null when the batch cannot be digested: its content broke the builder, so it alone went
    // to the quarantine (and its messages were released); every other batch goes on.
    private Digest? Build(DueBatch due, Dictionary<string, byte[]>? held)
    {
        try
        {
            return builder.BuildWithBodies(due, id => LoadBody(id, held?.GetValueOrDefault(id)), time.GetUtcNow());
        }
        catch (Exception e) when (e is not OutOfMemoryException and not IOException and not UnauthorizedAccessException)
        {
            // The builder reads nothing it cannot do without: what throws here is the batch's
            // own content.
            QuarantineBatch(due, held, e);
            return null;
        }
    }

    // The end of a round of hand-offs (a tick, the shutdown flush): the cached bodies go.
    public void ForgetBodies()
    {
        _bodies.Clear();
        _bodyChars = 0;
    }

    public long BatchesQuarantined => Interlocked.Read(ref _batchesQuarantined);

    // The sender has taken the digest (relayed, queued durably, or in the fail-dir). Its
    // messages leave the store at ReleaseSent, once per round: each removal is an fsync, and
    // one per digest on this loop held the next digests back (bench/pipeline, issue 13).
    public void Sent(DigestOutbox.Entry item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var digest = item.Digest;
        outbox.Sent(item);
        Interlocked.Increment(ref _digestsSent);
        BatchLog.DigestSent(logger, digest.Recipient, digest.BatchKey, digest.MessageIds.Count);
        _sent.Add(digest.MessageIds);
    }

    // The end of a round: the messages of every digest handed over in it, in one removal.
    public void ReleaseSent()
    {
        if (_sent.Count == 0)
        {
            return;
        }
        // Not joined into one list: 100,000 ids would be a large-object-heap array.
        var ids = _sent.Count == 1 ? _sent[0] : _sent.SelectMany(i => i);
        Release(ids);
        _sent.Clear();
    }

    // Each message's copy for this batch is settled (handed on or quarantined): those whose
    // last copy it was leave the store.
    private void Release(IEnumerable<string> ids)
    {
        var done = ledger.Delivered(ids);
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

    private void QuarantineBatch(DueBatch due, Dictionary<string, byte[]>? held, Exception error)
    {
        var reason = $"digest for <{due.Recipient}> (batch \"{due.BatchKey}\") failed: {error.GetType().Name}: {error.Message}";
        if (quarantine is null)
        {
            // Only tests build the hand-off without one: keep the messages, log the fault.
            BatchLog.QuarantineFailed(logger, error, due.MessageIds.Count > 0 ? due.MessageIds[0] : "");
            return;
        }
        var now = time.GetUtcNow();
        string? first = null;
        try
        {
            foreach (var id in due.MessageIds)
            {
                if ((held?.GetValueOrDefault(id) ?? StoredMessages.Read(store, id, logger)) is not { } bytes)
                {
                    continue; // gone from the store already: nothing left to keep
                }
                var name = quarantine.Put(bytes, ledger.From(id), [due.Recipient], reason, now);
                first ??= name;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Neither digested nor kept aside: the messages stay in the store for the next start.
            BatchLog.QuarantineFailed(logger, e, due.MessageIds.Count > 0 ? due.MessageIds[0] : "");
            return;
        }
        quarantine.CountBatch();
        Interlocked.Increment(ref _batchesQuarantined);
        BatchLog.Quarantined(logger, error, due.MessageIds.Count, due.Recipient, quarantine.Root, first ?? "-", Quarantine.OneLine(reason));
        Release(due.MessageIds);
    }

    // A digest shows the body of each group's last message: from this round's cache, from the
    // bytes kept since it was batched, else read back from the store; plain ones skip MimeKit.
    private string LoadBody(string id, byte[]? held)
    {
        if (_bodies.TryGetValue(id, out var cached))
        {
            return cached;
        }
        byte[] bytes;
        int length;
        if (held is not null)
        {
            (bytes, length) = (held, held.Length);
        }
        else if (!buffer.TryRead(store, id, logger, out bytes, out length))
        {
            return DigestBuilder.NoLongerStored;
        }
        var body = MessageText.TryPlainBody(bytes, length, _headerSpans, out var plain)
            ? plain
            : MessageText.Body(StoredMessages.Parse(bytes, length, id, logger));
        if (_bodyChars + body.Length > BodyCacheChars)
        {
            ForgetBodies();
        }
        _bodies[id] = body;
        _bodyChars += body.Length;
        return body;
    }
}
