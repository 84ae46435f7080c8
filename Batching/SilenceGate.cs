using System.Text;
using Failmail.Maildir;
using Failmail.Silences;
using MimeKit;

namespace Failmail.Batching;

// Silences on the one intake path after the 250 (BatchIntake, once the keys are known), so
// SMTP and the spool get them alike. A message an active silence matches is stored (it was
// already), counted, archived in --all-dir, recorded in the history as "silenced" and left
// out of every digest; the caller then releases it from the store as if it had been sent.
// Runs on the batcher's loop; the book itself is thread-safe.
internal sealed class SilenceGate(SilenceBook book, TimeProvider time, IDigestHistory? history = null, MaildirWriter? allDir = null)
{
    private long _silenced;

    public SilenceBook Book => book;

    public long Silenced => Interlocked.Read(ref _silenced);

    // True when a silence took the message: it must not be batched.
    public bool TrySilence(ReceivedMessage message, byte[] bytes, int length, MessageKeys keys, IReadOnlyList<string> recipients)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(bytes);
        var now = time.GetUtcNow();
        if (!book.AnyActive(now))
        {
            return false; // the usual case: one look at a small array
        }
        HeaderList? headers = null;
        Func<string, string?>? header = null;
        if (book.NeedsHeaders(now))
        {
            header = name =>
            {
                headers ??= ReadHeaders(bytes, length);
                return headers?[name] is { } value ? HeaderText.Cut(value) : null;
            };
        }
        var fields = new SilenceFields(keys.Subject, message.Envelope.From, recipients, keys.BatchKey, keys.GroupKey, header);
        if (book.Match(fields, now) is not { } silence)
        {
            return false;
        }
        Interlocked.Increment(ref _silenced);
        try
        {
            _ = allDir?.Deliver(bytes.AsSpan(0, length));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The archive copy is a convenience; the silence still holds.
        }
        history?.Record(new DigestRecord("silenced-" + message.Id, now, string.Join(", ", recipients), keys.BatchKey, keys.Subject, length,
            "", "silenced", "silence " + silence.Id, Encoding.UTF8.GetString(bytes, 0, Math.Min(length, DigestRecord.MaxTextChars))));
        return true;
    }

    // --merge-digests: a spoke's digest is silenced group by group, each group matched as its
    // own message would be (its subject and group key, the digest's envelope and batch key;
    // header matchers see no headers). The groups no silence matches; the others are counted.
    public IReadOnlyList<DigestDocumentGroup> Unsilenced(ReceivedMessage message, IReadOnlyList<DigestDocumentGroup> groups, string batchKey, IReadOnlyList<string> recipients)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(groups);
        var now = time.GetUtcNow();
        if (!book.AnyActive(now))
        {
            return groups;
        }
        var kept = new List<DigestDocumentGroup>(groups.Count);
        foreach (var group in groups)
        {
            var fields = new SilenceFields(group.Subject, message.Envelope.From, recipients, batchKey, group.Key, null);
            if (book.Match(fields, now) is null)
            {
                kept.Add(group);
            }
            else
            {
                Interlocked.Add(ref _silenced, group.Count);
            }
        }
        return kept;
    }

    private static HeaderList? ReadHeaders(byte[] bytes, int length)
    {
        try
        {
            using var stream = new MemoryStream(bytes, 0, length, writable: false);
            return HeaderList.Load(stream);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
