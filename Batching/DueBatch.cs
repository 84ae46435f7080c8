namespace Failmail.Batching;

// A batch that is due: everything the digest builder needs except message bodies.
// Groups are ordered by count (descending), then by first appearance.
internal sealed record DueBatch(
    string BatchKey,
    string Recipient,
    IReadOnlyList<DueGroup> Groups,
    IReadOnlyList<string> MessageIds,
    DateTimeOffset Oldest,
    DateTimeOffset Newest)
{
    public int TotalMessages => MessageIds.Count;
}

// One group ("unique message") of a due batch: a count, not its messages' ids (the batch
// holds those once). LastMessageId names the message whose body the digest shows; Subject
// is that message's subject.
internal sealed record DueGroup(
    string Key,
    string Subject,
    int Count,
    DateTimeOffset First,
    DateTimeOffset Last,
    string LastMessageId);
