using Failmail.Batching;

namespace Failmail.Tests.Batching;

// The API's view of the open batches (issue 15): the soonest due first, within the limit.
public class BatcherSnapshotTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 10, 0, 0, TimeSpan.Zero);

    private static BatchedMessage Msg(string id, string to, string subject = "disk full") =>
        new(id, "", subject, subject, [to], T0);

    [Fact]
    public void TheSoonestDueBatchesAreListedFirstAndTheLimitKeepsThem()
    {
        var batcher = new Batcher(waitPeriod: 10, maxWait: 100);
        batcher.Add(Msg("1", "late@example.com"), 0);
        batcher.Add(Msg("2", "soon@example.com"), 0);
        batcher.Add(Msg("3", "late@example.com"), 8); // extends late's quiet period to 18
        batcher.Add(Msg("4", "middle@example.com", "cpu high"), 5);
        batcher.Add(Msg("5", "middle@example.com"), 5);

        var all = batcher.Snapshot(10);
        Assert.Equal(["soon@example.com", "middle@example.com", "late@example.com"], all.Select(b => b.Recipient));
        Assert.Equal([10L, 15L, 18L], all.Select(b => b.DueAt));
        Assert.Equal(2, all[1].Groups.Count);

        var first = Assert.Single(batcher.Snapshot(1));
        Assert.Equal("soon@example.com", first.Recipient);
        Assert.Empty(batcher.Snapshot(0));
    }
}
