namespace Failmail.Batching;

// What the batcher keeps of one received message: its keys and display data, not its bytes.
// The digest builder reads the body of a group's last message back from the store.
// Recipients are the envelope's effective recipients; each goes into its own batch.
internal sealed record BatchedMessage(
    string Id,
    string BatchKey,
    string GroupKey,
    string Subject,
    IReadOnlyList<string> Recipients,
    DateTimeOffset Received)
{
    // The sending host (SendingHost.Of), "" when unknown.
    public string Host { get; init; } = "";

    // --group-normalize: the words holding the values the normalised subject replaced.
    public string Example { get; init; } = "";

    // --merge-digests: a spoke's digest, whose groups are folded in with their counts, hosts
    // and times (GroupKey, Subject and Received are then its first group's); null otherwise.
    public IReadOnlyList<DigestDocumentGroup>? Folded { get; init; }
}
