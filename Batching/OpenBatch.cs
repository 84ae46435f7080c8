namespace Failmail.Batching;

// A read-only copy of one open batch, for the API (issue 15). DueAt is on the monotonic
// timeline (TimeProvider.GetTimestamp); BatcherService turns it into a wall-clock time.
internal sealed record OpenBatch(
    long Id,
    string BatchKey,
    string Recipient,
    int Count,
    IReadOnlyList<OpenGroup> Groups,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    long DueAt);

internal sealed record OpenGroup(string Key, string Subject, int Count);

// An open batch as the API shows it: DueAt as a wall-clock time.
internal sealed record OpenBatchView(OpenBatch Batch, DateTimeOffset DueAt);
