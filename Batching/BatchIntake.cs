using Failmail.Maildir;
using Failmail.Timing;
using Microsoft.Extensions.Logging;

namespace Failmail.Batching;

// Takes received messages into the batcher, on the BatcherService loop: reads each message's
// bytes once, computes its keys, and records it in the ledger, the batcher and the
// newest-message cache; a digest coming back goes straight to the outbox, once per recipient.
// Single-threaded.
internal sealed class BatchIntake(
    IMessageStore store,
    MessageKeyEvaluator keys,
    Batcher batcher,
    MessageLedger ledger,
    NewestMessages newest,
    DigestOutbox outbox,
    MessageReadBuffer buffer,
    Quarantine? quarantine,
    TimeProvider time,
    ILogger logger,
    bool mergeDigests = false)
{
    // Active silences (issue 15): checked once a message's keys are known.
    public SilenceGate? Silences { get; set; }

    // Every stored message not held yet: all of them at start, the new ones when polling.
    // Returns how many were taken in. progressed runs after each message (the service's
    // liveness: a large backlog at start is work, not a stall).
    public int LoadPending(Action? progressed = null)
    {
        IReadOnlyList<ReceivedMessage> pending;
        try
        {
            pending = store.LoadPending();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            BatchLog.LoadPendingFailed(logger, e);
            return 0;
        }
        var added = 0;
        foreach (var message in pending)
        {
            if (Process(message))
            {
                added++;
            }
            progressed?.Invoke();
        }
        return added;
    }

    // Never lets one message stop the loop. A failure of the disk is the store's: the message
    // stays there and a later listing or the next start tries it again. Any other failure is
    // the message's own (its keys could not be computed): it moves to the quarantine with the
    // reason, once, and leaves the store, so it cannot fail again at every start.
    public bool Process(ReceivedMessage message)
    {
        if (!ledger.TryTrack(message.Id))
        {
            return false;
        }
        try
        {
            return Batch(message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            BatchLog.BatchingFailed(logger, e, message.Id);
            ledger.Forget(message.Id);
            return false;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            QuarantineMessage(message, e);
            return false;
        }
    }

    private void QuarantineMessage(ReceivedMessage message, Exception error)
    {
        var reason = $"batching failed: {error.GetType().Name}: {error.Message}";
        if (quarantine is null || StoredMessages.Read(store, message.Id, logger) is not { } bytes)
        {
            BatchLog.BatchingFailed(logger, error, message.Id);
            ledger.Forget(message.Id);
            return;
        }
        try
        {
            var name = quarantine.Put(bytes, message.Envelope.From, message.Envelope.Recipients, reason, time.GetUtcNow());
            quarantine.CountBatch();
            BatchLog.Quarantined(logger, error, 1, message.Envelope.Recipients.Count > 0 ? message.Envelope.Recipients[0] : "", quarantine.Root, name, Quarantine.OneLine(reason));
            store.Remove([message.Id]);
            ledger.Removed([message.Id]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The quarantine cannot be written either: keep the message where it is.
            BatchLog.QuarantineFailed(logger, e, message.Id);
            ledger.Forget(message.Id);
        }
    }

    private bool Batch(ReceivedMessage message)
    {
        if (!buffer.TryRead(store, message.Id, logger, out var bytes, out var length))
        {
            ledger.Forget(message.Id);
            return false;
        }
        var recipients = Recipients(message.Envelope);
        if (recipients.Count == 0)
        {
            BatchLog.NoRecipients(logger, message.Id);
            return false;
        }
        if (!keys.TryFromHead(bytes, length, message, out var messageKeys))
        {
            var mime = StoredMessages.Parse(bytes, length, message.Id, logger);
            if (DigestBuilder.IsDigest(mime) && mergeDigests && Fold(message, mime, recipients))
            {
                return true;
            }
            if (DigestBuilder.IsDigest(mime))
            {
                ledger.Expect(message.Id, recipients.Count, message.Envelope.Received, message.Envelope.From);
                BatchLog.PassThrough(logger, message.Id, recipients.Count);
                foreach (var recipient in recipients)
                {
                    outbox.Add(DigestBuilder.PassThrough(recipient, mime, message.Id));
                }
                return true;
            }
            messageKeys = keys.FromMime(mime, message);
        }
        if (Silences is { } silences && silences.TrySilence(message, bytes, length, messageKeys, recipients))
        {
            // Left out of every digest and released from the store as if it had been sent.
            store.Remove([message.Id]);
            ledger.Removed([message.Id]);
            return false;
        }
        var (batchKey, groupKey, subject) = messageKeys;
        var batched = new BatchedMessage(message.Id, batchKey, groupKey, subject, recipients, message.Envelope.Received)
        {
            Host = SendingHost.Of(message.Envelope),
            Example = messageKeys.Example,
        };
        ledger.Expect(message.Id, recipients.Count, message.Envelope.Received, message.Envelope.From);
        batcher.Add(batched, MonotonicTime.ToTimestamp(time, message.Envelope.Received));
        // The read buffer is reused: a message small enough to keep is copied out, once for all
        // its recipients.
        var kept = length > NewestMessages.MaxMessageBytes ? null
            : buffer.IsBuffer(bytes) ? bytes.AsSpan(0, length).ToArray() : bytes;
        foreach (var recipient in recipients)
        {
            newest.Add(batchKey, recipient, groupKey, message.Id, kept);
        }
        BatchLog.Batched(logger, message.Id, batchKey, groupKey, recipients.Count);
        return true;
    }

    // --merge-digests: a spoke's digest with its JSON part joins the batch this batcher's batch
    // expression gives it, and each of its groups the group of the same key, with its counts,
    // hosts and times. False (the digest then passes through, as without the flag) when it has
    // no part this version reads.
    private bool Fold(ReceivedMessage message, MimeKit.MimeMessage mime, List<string> recipients)
    {
        if (DigestDocument.Find(mime, out var problem) is not { } document)
        {
            if (problem.Length > 0)
            {
                BatchLog.MergeRefused(logger, message.Id, problem);
            }
            return false;
        }
        var batchKey = keys.FromMime(mime, message).BatchKey;
        var groups = Silences is { } silences ? silences.Unsilenced(message, document.Groups, batchKey, recipients) : document.Groups;
        if (groups.Count == 0)
        {
            // Every group is silenced: released from the store as if it had been sent.
            BatchLog.MergeSilenced(logger, message.Id, document.Groups.Count);
            store.Remove([message.Id]);
            ledger.Removed([message.Id]);
            return true;
        }
        var first = groups[0];
        var batched = new BatchedMessage(message.Id, batchKey, first.Key, first.Subject, recipients, message.Envelope.Received)
        {
            Folded = groups,
        };
        ledger.Expect(message.Id, recipients.Count, message.Envelope.Received, message.Envelope.From);
        batcher.Add(batched, MonotonicTime.ToTimestamp(time, message.Envelope.Received));
        var total = groups.Sum(g => g.Count);
        BatchLog.Merged(logger, message.Id, batchKey, groups.Count, total, recipients.Count);
        return true;
    }

    // The distinct normalised envelope recipients; one recipient (the usual case) without LINQ.
    private static List<string> Recipients(Envelope envelope) =>
        envelope.Recipients.Count == 1
            ? [RecipientAddress.Normalize(envelope.Recipients[0])]
            : envelope.Recipients.Select(RecipientAddress.Normalize).Distinct(StringComparer.Ordinal).ToList();
}
