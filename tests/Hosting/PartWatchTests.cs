using Failmail.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Failmail.Tests.Hosting;

public class PartWatchTests
{
    [Fact]
    public void APartStuckInOneStepIsAProblemAtItsLimitAndFatalAtTwiceIt()
    {
        var time = new FakeTimeProvider();
        var watch = new PartWatch(time);
        long? busySince = null;
        watch.Add("spool importer", null, () => busySince, TimeSpan.FromMinutes(1));
        Assert.Null(watch.Problem());

        busySince = time.GetTimestamp();
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Null(watch.Problem());
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("spool importer has made no progress for 61s (limit 60s)", watch.Problem());
        Assert.Null(watch.Fatal());
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal("spool importer has made no progress for 121s (limit 60s)", watch.Fatal());

        busySince = null; // it moved on
        Assert.Null(watch.Problem());
    }

    [Fact]
    public void APartWhoseTaskEndedIsFatalAtOnceWithItsReason()
    {
        var watch = new PartWatch(new FakeTimeProvider());
        var failed = Task.FromException(new InvalidOperationException("boom\nsecond line"));
        watch.Add("batcher", failed, () => null, TimeSpan.FromMinutes(1));
        Assert.Equal("batcher is not running (InvalidOperationException: boom second line)", watch.Fatal());
        Assert.Equal(watch.Fatal(), watch.Problem());
    }

    [Fact]
    public void NothingIsAProblemOnceTheProcessStops()
    {
        var watch = new PartWatch(new FakeTimeProvider());
        watch.Add("relay worker", Task.CompletedTask, () => null, TimeSpan.FromMinutes(1));
        Assert.NotNull(watch.Problem());
        watch.Stopping();
        Assert.Null(watch.Problem());
        Assert.Null(watch.Fatal());
    }
}
