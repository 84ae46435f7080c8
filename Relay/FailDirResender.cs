using Failmail.Maildir;
using MimeKit;

namespace Failmail.Relay;

// `failmail resend DIR`: moves the messages of a fail-dir maildir (new/ and cur/) back into
// the durable outgoing queue. The envelope is recovered from the headers: the sender from
// From (else --from), the recipients from To, Cc and Bcc (a digest has exactly one To).
// Each message is committed to the queue first and only then deleted from the fail-dir, so
// a second run queues nothing twice and a crash in between duplicates at worst.
internal static class FailDirResender
{
    public static async Task<ResendResult> ResendAsync(string failDir, IMessageStore queue, string defaultFrom,
        TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failDir);
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(time);
        if (!Directory.Exists(Path.Combine(failDir, "new")) && !Directory.Exists(Path.Combine(failDir, "cur")))
        {
            throw new DirectoryNotFoundException($"{failDir} is not a maildir (no new/ or cur/)");
        }
        var queued = 0;
        var skipped = new List<string>();
        foreach (var sub in new[] { "new", "cur" })
        {
            var dir = Path.Combine(failDir, sub);
            if (!Directory.Exists(dir))
            {
                continue;
            }
            var removedHere = false;
            // Maildir names start with the delivery time: oldest first.
            foreach (var path in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
            {
                cancellationToken.ThrowIfCancellationRequested();
                byte[] bytes;
                try
                {
                    bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
                }
                catch (FileNotFoundException)
                {
                    continue; // another resend took it meanwhile
                }
                if (!TryRecoverEnvelope(bytes, defaultFrom, out var from, out var recipients, out var reason))
                {
                    skipped.Add($"{path}: {reason}");
                    continue;
                }
                var draft = queue.CreateDraft();
                await using (draft.ConfigureAwait(false))
                {
                    draft.Write(bytes);
                    // Received = now: the message gets a full --queue-lifetime again.
                    _ = await draft.CommitAsync(new Envelope(from, recipients, time.GetUtcNow(), ""), cancellationToken).ConfigureAwait(false);
                }
                queued++;
                try
                {
                    File.Delete(path);
                    removedHere = true;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Queued, but it stays here too: a second resend would send it again.
                    throw new IOException($"queued {path} but could not remove it from the fail-dir: {e.Message}", e);
                }
            }
            if (removedHere)
            {
                FileSync.Directory(dir);
            }
        }
        return new ResendResult(queued, skipped);
    }

    internal static bool TryRecoverEnvelope(byte[] bytes, string defaultFrom, out string from, out List<string> recipients, out string reason)
    {
        from = defaultFrom;
        recipients = [];
        HeaderList headers;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            headers = HeaderList.Load(stream);
        }
        catch (FormatException e)
        {
            reason = "unparsable headers: " + e.Message;
            return false;
        }
        var sender = Mailboxes(headers, HeaderId.From).FirstOrDefault();
        if (!string.IsNullOrEmpty(sender))
        {
            from = sender;
        }
        recipients = [.. Mailboxes(headers, HeaderId.To).Concat(Mailboxes(headers, HeaderId.Cc)).Concat(Mailboxes(headers, HeaderId.Bcc))
            .Distinct(StringComparer.Ordinal)];
        if (recipients.Count == 0)
        {
            reason = "no recipient in To, Cc or Bcc";
            return false;
        }
        reason = "";
        return true;
    }

    private static IEnumerable<string> Mailboxes(HeaderList headers, HeaderId id)
    {
        foreach (var header in headers.Where(h => h.Id == id))
        {
            if (InternetAddressList.TryParse(header.RawValue, out var list))
            {
                foreach (var mailbox in list.Mailboxes)
                {
                    if (!string.IsNullOrEmpty(mailbox.Address))
                    {
                        yield return mailbox.Address;
                    }
                }
            }
        }
    }
}

internal sealed record ResendResult(int Queued, IReadOnlyList<string> Skipped);
