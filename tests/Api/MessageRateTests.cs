using Failmail.Api;

namespace Failmail.Tests.Api;

public sealed class MessageRateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void IncreasesCountInTheMinuteTheyWereSeenAndOldMinutesFallOff()
    {
        var rate = new MessageRate();
        rate.Observe(100, T0); // the first look only sets the baseline
        rate.Observe(130, T0.AddSeconds(30));
        rate.Observe(135, T0.AddMinutes(1));
        rate.Observe(135, T0.AddMinutes(2));

        var series = rate.Series(T0.AddMinutes(2));
        Assert.Equal(MessageRate.Minutes, series.Count);
        Assert.Equal([30L, 5L, 0L], series.TakeLast(3));
        Assert.Equal(35, series.Sum());

        Assert.Equal(0, rate.Series(T0.AddMinutes(62)).Sum());
    }
}
