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
    // Instances: the stored messages, and for a spoke's digest folded in (--merge-digests) the
    // messages it counted.
    public int TotalMessages => Groups.Count == 1 ? Groups[0].Count : Groups.Sum(g => g.Count);

    // --follow-up-interval: a digest for this key and recipient went out less than the
    // interval before this batch began; the digest says "still happening: N more since the
    // last digest" (N = TotalMessages).
    public bool FollowUp { get; init; }
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
    string LastMessageId)
{
    // The sending hosts (SendingHost) with their message counts, most first: at most
    // Batcher's MaxHosts; OtherHostMessages came from hosts past those.
    public IReadOnlyList<HostCount> Hosts { get; init; } = [];
    public int OtherHostMessages { get; init; }

    // How many distinct hosts those were, as far as they were named (a spoke's digest names at
    // most 32 per group); counted up to Batcher's MaxOtherHosts.
    public int OtherHosts { get; init; }

    // --group-normalize: a few of the values the placeholders stood for, each the words that
    // held them ("91%/web-17"); Subject is then the normalised subject.
    public IReadOnlyList<string> Examples { get; init; } = [];

    // The group's last message was a spoke's digest folded in (--merge-digests): it has no
    // body of its own to show.
    public bool Folded { get; init; }
}

// One sending host of a group and how many of its messages came from it.
internal readonly record struct HostCount(string Host, int Count);
