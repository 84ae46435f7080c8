namespace Failmail.Maildir;

// The envelope file .meta/<id>. The first three names are failmail's (Go struct field
// names), so a store written by failmail loads here and failmail can read ours. Received
// ClientAddress and Size are new; failmail kept the receive time only in the file's mtime.
// Size saves LoadPending a stat of every message file.
internal sealed class MetaRecord
{
    public string? EnvelopeFrom { get; set; }
    public List<string>? EnvelopeTo { get; set; }
    public List<string>? RedirectedTo { get; set; }
    public DateTimeOffset? Received { get; set; }
    public string? ClientAddress { get; set; }
    // The EHLO name (issue 13); absent in older records and failmail's, which read fine.
    public string? ClientName { get; set; }
    public long? Size { get; set; }

    public static MetaRecord FromEnvelope(Envelope envelope, long size)
    {
        var recipients = envelope.Recipients.ToList();
        return new MetaRecord
        {
            EnvelopeFrom = envelope.From,
            // failmail always filled both with the effective list (spec §3.2); so do we.
            EnvelopeTo = recipients,
            RedirectedTo = recipients,
            Received = envelope.Received,
            ClientAddress = envelope.ClientAddress,
            ClientName = string.IsNullOrEmpty(envelope.ClientName) ? null : envelope.ClientName,
            Size = size,
        };
    }

    // Null when the record cannot be a deliverable message (no recipients). The fallback is
    // asked only for failmail's records, which lack Received.
    public Envelope? ToEnvelope(Func<DateTimeOffset> fallbackReceived)
    {
        // failmail's reader preferred RedirectedTo when non-empty.
        var recipients = RedirectedTo is { Count: > 0 } ? RedirectedTo : EnvelopeTo;
        if (recipients is null || recipients.Count == 0 || recipients.Any(string.IsNullOrEmpty))
        {
            return null;
        }
        // failmail stored the null sender as "<>"; ours is "".
        var from = EnvelopeFrom is null or "<>" ? "" : EnvelopeFrom;
        return new Envelope(from, recipients, Received ?? fallbackReceived(), ClientAddress ?? "") { ClientName = ClientName ?? "" };
    }
}
