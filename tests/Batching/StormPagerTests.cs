using Failmail.Batching;

namespace Failmail.Tests.Batching;

// --page-threshold / --page-window (issue 13) on the pure pager and through the batcher.
public class StormPagerTests
{
    [Fact]
    public void PagesOnceWhenTheThresholdIsPassedWithinTheWindow()
    {
        var pager = new StormPager(threshold: 10, windowTicks: 120);
        for (var i = 0; i < 10; i++)
        {
            Assert.Null(pager.Count("db", i));
        }
        Assert.Equal(11, pager.Count("db", 10));
        for (var i = 11; i < 100; i++)
        {
            Assert.Null(pager.Count("db", i)); // nothing more while the storm lasts
        }
        Assert.True(pager.IsPaged("db"));
        Assert.False(pager.IsPaged("web"));
    }

    [Fact]
    public void SlowTrafficNeverPages()
    {
        var pager = new StormPager(threshold: 10, windowTicks: 120);
        for (var t = 0; t < 10_000; t += 13)
        {
            Assert.Null(pager.Count("db", t)); // at most 10 in any 120 ticks
        }
    }

    [Fact]
    public void RearmsWhenTheRateFallsAndPagesAgain()
    {
        var pager = new StormPager(threshold: 5, windowTicks: 60);
        long? first = null;
        for (var i = 0; i < 20; i++)
        {
            first ??= pager.Count("db", i);
        }
        Assert.Equal(6, first);
        // Quiet for a window: the sweep re-arms and forgets the key.
        pager.Sweep(200);
        Assert.False(pager.IsPaged("db"));
        Assert.Equal(0, pager.TrackedKeys);
        long? second = null;
        for (var i = 0; i < 6; i++)
        {
            second ??= pager.Count("db", 300 + i);
        }
        Assert.Equal(6, second);
    }

    [Fact]
    public void KeysAreCountedApart()
    {
        var pager = new StormPager(threshold: 3, windowTicks: 60);
        Assert.Null(pager.Count("a", 0));
        Assert.Null(pager.Count("b", 0));
        Assert.Null(pager.Count("a", 1));
        Assert.Null(pager.Count("b", 1));
        Assert.Null(pager.Count("a", 2));
        Assert.Equal(4, pager.Count("a", 3));
        Assert.Null(pager.Count("b", 3));
    }

    [Fact]
    public void MemoryIsBoundedByMaxKeys()
    {
        var pager = new StormPager(threshold: 3, windowTicks: 60);
        for (var i = 0; i < StormPager.MaxKeys + 100; i++)
        {
            pager.Count($"k{i}", 0);
        }
        Assert.Equal(StormPager.MaxKeys, pager.TrackedKeys);
        // A window later the old keys are swept and new ones fit again.
        Assert.Null(pager.Count("late", 1_000));
        Assert.Equal(1, pager.TrackedKeys);
    }

    [Fact]
    public void TheBatcherPagesOncePerMessageNotPerRecipient()
    {
        var batcher = new Batcher(waitPeriod: 30, maxWait: 300, pager: new StormPager(threshold: 3, windowTicks: 60));
        var t0 = new DateTimeOffset(2014, 7, 1, 12, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 4; i++)
        {
            batcher.Add(new BatchedMessage($"m{i}", "db", "g", "s", ["a@example.com", "b@example.com"], t0.AddSeconds(i)), i);
        }
        var page = Assert.Single(batcher.TakePages());
        Assert.Equal(new StormPage("db", 4), page);
        Assert.Empty(batcher.TakePages());
        Assert.Equal(2, batcher.ActiveBatches); // the digests still follow
    }
}
