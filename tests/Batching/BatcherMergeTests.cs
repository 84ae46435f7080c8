using Failmail.Batching;

namespace Failmail.Tests.Batching;

// --merge-digests in the pure batcher: spokes' digests fold into one batch by group key.
public class BatcherMergeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 10, 0, 0, TimeSpan.Zero);

    private static BatchedMessage SpokeDigest(string id, params DigestDocumentGroup[] groups) =>
        new(id, "", groups[0].Key, groups[0].Subject, ["ops@example.com"], T0) { Folded = groups };

    private static DigestDocumentGroup Group(string key, long count, int firstSecond, int lastSecond, params DigestDocumentHost[] hosts) =>
        new(key, key + " subject", count, T0.AddSeconds(firstSecond), T0.AddSeconds(lastSecond), hosts, 0, []);

    [Fact]
    public void TwoSpokesDigestsBecomeOneBatchWithSummedCountsHostsAndTimes()
    {
        var batcher = new Batcher(waitPeriod: 5, maxWait: 100);
        batcher.Add(SpokeDigest("d1", Group("disk full", 30, 0, 50, new DigestDocumentHost("web-1", 30)), Group("cpu high", 2, 10, 11, new DigestDocumentHost("web-1", 2))), 0);
        batcher.Add(SpokeDigest("d2", Group("disk full", 20, -5, 40, new DigestDocumentHost("web-2", 20))), 1);
        var due = Assert.Single(batcher.Tick(6));
        Assert.Equal(52, due.TotalMessages);
        Assert.Equal(["d1", "d2"], due.MessageIds);
        var disk = due.Groups[0];
        Assert.Equal(("disk full", 50), (disk.Key, disk.Count));
        Assert.Equal((T0.AddSeconds(-5), T0.AddSeconds(50)), (disk.First, disk.Last));
        Assert.Equal([new HostCount("web-1", 30), new HostCount("web-2", 20)], disk.Hosts);
        Assert.True(disk.Folded);
        Assert.Equal(("cpu high", 2), (due.Groups[1].Key, due.Groups[1].Count));
    }

    [Fact]
    public void AFoldedGroupAndPlainMessagesShareTheirGroupKey()
    {
        var batcher = new Batcher(waitPeriod: 5, maxWait: 100);
        batcher.Add(SpokeDigest("d1", Group("disk full", 9, 0, 1, new DigestDocumentHost("web-1", 9))), 0);
        batcher.Add(new BatchedMessage("m1", "", "disk full", "disk full", ["ops@example.com"], T0.AddSeconds(2)) { Host = "hub" }, 1);
        var group = Assert.Single(Assert.Single(batcher.Tick(6)).Groups);
        Assert.Equal(10, group.Count);
        Assert.False(group.Folded); // the last message is a plain one: its body is shown
        Assert.Equal([new HostCount("web-1", 9), new HostCount("hub", 1)], group.Hosts);
    }

    [Fact]
    public void AHubFoldingThreeHundredSpokesCountsThreeHundredHosts()
    {
        var batcher = new Batcher(waitPeriod: 5, maxWait: 100);
        for (var i = 0; i < 300; i++)
        {
            batcher.Add(SpokeDigest($"d{i}", Group("disk full", 30, 0, 1, new DigestDocumentHost($"web-{i}", 30))), 0);
        }
        var group = Assert.Single(Assert.Single(batcher.Tick(6)).Groups);
        Assert.Equal(9_000, group.Count);
        Assert.Equal(32, group.Hosts.Count);
        Assert.Equal(268, group.OtherHosts);
        Assert.EndsWith(", 297 more hosts", GroupNotes.Hosts(group), StringComparison.Ordinal);
    }

    [Fact]
    public void MessagesFromHostsASpokeDidNotNameAreCountedAsMessagesNotHosts()
    {
        var batcher = new Batcher(waitPeriod: 5, maxWait: 100);
        var unnamed = new DigestDocumentGroup("disk full", "disk full", 50, T0, T0, [new DigestDocumentHost("web-1", 20)], 30, []);
        batcher.Add(SpokeDigest("d1", unnamed), 0);
        var group = Assert.Single(Assert.Single(batcher.Tick(6)).Groups);
        Assert.Equal(0, group.OtherHosts);
        Assert.Equal("web-1 (20), others (30 messages)", GroupNotes.Hosts(group));
    }
}
