using Failmail.Timing;

namespace Failmail.Tests.Timing;

public class BackoffTests
{
    [Theory]
    [InlineData(1, 30)]
    [InlineData(2, 60)]
    [InlineData(3, 120)]
    [InlineData(4, 240)]
    [InlineData(5, 480)]
    [InlineData(6, 600)]
    [InlineData(1000, 600)]
    public void DoublesFromRetryMinUpToRetryMax(int failures, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Backoff.Delay(failures, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(10)));

    [Fact]
    public void ZeroMinimumStillWaitsASecond() =>
        Assert.Equal(TimeSpan.FromSeconds(1), Backoff.Delay(1, TimeSpan.Zero, TimeSpan.FromMinutes(10)));
}
