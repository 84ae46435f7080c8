using Failmail.Outputs.Irc;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Failmail.Tests.Outputs.Irc;

public class IrcFloodGateTests
{
    [Fact]
    public void BurstGoesAtOnceThenOneLinePerInterval()
    {
        var clock = new FakeTimeProvider();
        var gate = new IrcFloodGate(clock, burst: 3, TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.Zero, gate.Take());
        Assert.Equal(TimeSpan.Zero, gate.Take());
        Assert.Equal(TimeSpan.Zero, gate.Take());
        Assert.Equal(TimeSpan.FromSeconds(2), gate.Take());
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(2), gate.Take());
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(2), gate.Take());
    }

    [Fact]
    public void QuietTimeRefillsTheBurstButNotBeyondIt()
    {
        var clock = new FakeTimeProvider();
        var gate = new IrcFloodGate(clock, burst: 2, TimeSpan.FromSeconds(2));
        gate.Take();
        gate.Take();
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(TimeSpan.Zero, gate.Take());
        Assert.Equal(TimeSpan.Zero, gate.Take());
        Assert.Equal(TimeSpan.FromSeconds(2), gate.Take());
    }
}
