using Failmail.Hosting;
using Failmail.Relay;

namespace Failmail.Tests.Relay;

public sealed class DurationHistogramTests
{
    [Fact]
    public void ObservationsLandInTheFirstBucketAtOrAboveThem()
    {
        var histogram = new DurationHistogram([1, 2, 5]);

        histogram.Observe(TimeSpan.FromSeconds(0.5));
        histogram.Observe(TimeSpan.FromSeconds(1));
        histogram.Observe(TimeSpan.FromSeconds(1.5));
        histogram.Observe(TimeSpan.FromSeconds(9));

        var snapshot = histogram.Snapshot();
        Assert.Equal([2L, 3L, 3L], snapshot.CumulativeCounts);
        Assert.Equal(4, snapshot.Count);
        Assert.Equal(12, snapshot.Sum);
    }

    [Fact]
    public void BoundsMustIncrease()
    {
        Assert.Throws<ArgumentException>(() => new DurationHistogram([1, 1]));
    }

    [Fact]
    public async Task ConcurrentObservationsAreAllCounted()
    {
        var histogram = new DurationHistogram();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                histogram.Observe(TimeSpan.FromMilliseconds(i));
            }
        }))).WaitAsync(TimeSpan.FromSeconds(10));

        var snapshot = histogram.Snapshot();
        Assert.Equal(4000, snapshot.Count);
        Assert.Equal(4000, snapshot.CumulativeCounts[^1]);
    }
}
