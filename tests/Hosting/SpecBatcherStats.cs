using Failmail.Hosting;

namespace Failmail.Tests.Hosting;

// What the batcher reports for spec §7's JSON; LastReceived is MinValue with no batches.
internal readonly record struct SpecBatcherStats(int ActiveBatches, int ActiveMessages, DateTimeOffset LastReceived)
{
    public static SpecBatcherStats Empty => new(0, 0, DateTimeOffset.MinValue);
}
