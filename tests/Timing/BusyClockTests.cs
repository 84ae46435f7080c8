using Failmail.Timing;
using Microsoft.Extensions.Time.Testing;

namespace Failmail.Tests.Timing;

public class BusyClockTests
{
    [Fact]
    public void ProgressMovesTheClockOnlyWhileWorking()
    {
        var time = new FakeTimeProvider();
        var busy = new BusyClock(time);
        Assert.Null(busy.Since);

        busy.Progressed(); // progress reported while idle: still idle
        Assert.Null(busy.Since);

        busy.Working();
        var started = busy.Since;
        Assert.Equal(time.GetTimestamp(), started);
        time.Advance(TimeSpan.FromSeconds(30));
        busy.Progressed();
        Assert.Equal(time.GetTimestamp(), busy.Since);
        Assert.NotEqual(started, busy.Since);

        busy.Idle();
        Assert.Null(busy.Since);
    }
}
