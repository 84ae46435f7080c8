namespace Failmail.Batching;

// One line of the digest history. Id is the sender's own (the relay's queue entry); Target is
// "smtp" or an output's name ("" for a silenced message, which went nowhere); Outcome is
// "queued", "relayed", "failed" or "silenced"; Error says why for the last failure; Text is
// the digest as sent (or the silenced message), cut to DigestRecord.MaxTextChars.
internal sealed record DigestRecord(
    string Id,
    DateTimeOffset Time,
    string Recipient,
    string BatchKey,
    string Subject,
    long Size,
    string Target,
    string Outcome,
    string Error,
    string Text)
{
    public const int MaxTextChars = 256 * 1024;

    // The text as UTF-8 bytes, for a sender that has the digest serialised (the relay), used
    // instead of Text when not empty: no string of a large digest per record (such strings
    // are large-object garbage the GC keeps). Cut at MaxTextChars bytes. Valid only while
    // Record runs: the sender reuses its buffer.
    public ReadOnlyMemory<byte> TextBytes { get; init; }

    public static string Cut(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length <= MaxTextChars ? text : string.Concat(text.AsSpan(0, MaxTextChars), CutMarker);
    }

    public const string CutMarker = "\r\n[… cut at 256 KiB]";
}
