namespace Failmail.Batching;

// A consistent snapshot for the HTTP stats endpoint. ActiveBatches counts open batches and
// digests waiting to be handed on (failmail counted due batches held by a failing upstream);
// ActiveMessages counts messages in open batches once per recipient batch.
internal sealed record BatcherStats(
    int ActiveBatches,
    long ActiveMessages,
    DateTimeOffset LastReceived,
    int PendingMessages,
    TimeSpan OldestPendingAge,
    long DigestsSent,
    int QueuedDigests)
{
    public static readonly BatcherStats Empty = new(0, 0, DateTimeOffset.MinValue, 0, TimeSpan.Zero, 0, 0);
}
