using Failmail.Config;
using Failmail.GoSyntax;

namespace Failmail.Tests.GoSyntax;

public class GoDurationTests
{
    public static TheoryData<string, long> ParseRows => new()
    {
        { "0", 0 },
        { "-0", 0 },
        { "+0", 0 },
        { "0s", 0 },
        { "5s", 5 * TimeSpan.TicksPerSecond },
        { "30s", 30 * TimeSpan.TicksPerSecond },
        { "1478s", 1478 * TimeSpan.TicksPerSecond },
        { "-5s", -5 * TimeSpan.TicksPerSecond },
        { "+5s", 5 * TimeSpan.TicksPerSecond },
        { "-0s", 0 },
        { "300ms", 300 * TimeSpan.TicksPerMillisecond },
        { "1.5h", 90 * TimeSpan.TicksPerMinute },
        { "2h45m", (2 * 60 + 45) * TimeSpan.TicksPerMinute },
        { "1h2m3.5s", (3600 + 120 + 3) * TimeSpan.TicksPerSecond + 500 * TimeSpan.TicksPerMillisecond },
        { "5.0s", 5 * TimeSpan.TicksPerSecond },
        { "5.s", 5 * TimeSpan.TicksPerSecond },
        { ".5s", 500 * TimeSpan.TicksPerMillisecond },
        { "1.004s", 1004 * TimeSpan.TicksPerMillisecond },
        { "100ns", 1 },
        { "99ns", 0 },
        { "1500ns", 15 },
        { "1us", 10 },
        { "1µs", 10 },
        { "1μs", 10 },
        { "1.5us", 15 },
        { "10ms", 10 * TimeSpan.TicksPerMillisecond },
        { "3m", 3 * TimeSpan.TicksPerMinute },
        { "5m0s", 5 * TimeSpan.TicksPerMinute },
        { "1h1h", 2 * TimeSpan.TicksPerHour },
        { "-1h30m", -90 * TimeSpan.TicksPerMinute },
        { "0.3333333333333333333h", 12_000_000_000 - 1 },
        { "2562047h47m16.854775807s", long.MaxValue / 100 },
    };

    [Theory]
    [MemberData(nameof(ParseRows))]
    public void ParsesGoSyntax(string text, long ticks)
    {
        Assert.True(GoDuration.TryParse(text, out var value, out var error), error);
        Assert.Equal(TimeSpan.FromTicks(ticks), value);
        Assert.Equal(TimeSpan.FromTicks(ticks), GoDuration.Parse(text));
    }

    [Theory]
    [InlineData("", "invalid duration")]
    [InlineData("3", "missing unit")]
    [InlineData("30", "missing unit")]
    [InlineData("00", "missing unit")]
    [InlineData("-", "invalid duration")]
    [InlineData("s", "invalid duration")]
    [InlineData(".", "invalid duration")]
    [InlineData(".s", "invalid duration")]
    [InlineData("+.s", "invalid duration")]
    [InlineData("5x", "unknown unit \"x\"")]
    [InlineData("5 s", "unknown unit \" s\"")]
    [InlineData("1d", "unknown unit \"d\"")]
    [InlineData("5S", "unknown unit \"S\"")]
    [InlineData(" 5s", "invalid duration")]
    [InlineData("5s ", "unknown unit \"s \"")]
    [InlineData("1h-5m", "unknown unit \"h-\"")]
    [InlineData("garbage", "invalid duration")]
    [InlineData("99999999999999999999999999h", "out of range")]
    public void RejectsWhatGoRejects(string text, string reason)
    {
        Assert.False(GoDuration.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => GoDuration.Parse(text));
    }

    public static TheoryData<long, string> FormatRows => new()
    {
        { 0, "0s" },
        { 1, "100ns" },
        { 10, "1µs" },
        { 15, "1.5µs" },
        { 10_000, "1ms" },
        { 2_500_000, "250ms" },
        { 12_345_678, "1.2345678s" },
        { 10_000_000, "1s" },
        { 15_000_000, "1.5s" },
        { 30 * TimeSpan.TicksPerSecond, "30s" },
        { 5 * TimeSpan.TicksPerMinute, "5m0s" },
        { 10 * TimeSpan.TicksPerMinute, "10m0s" },
        { TimeSpan.TicksPerHour, "1h0m0s" },
        { 24 * TimeSpan.TicksPerHour, "24h0m0s" },
        { TimeSpan.TicksPerHour + 2 * TimeSpan.TicksPerMinute + 35_000_000, "1h2m3.5s" },
        { 61 * TimeSpan.TicksPerSecond, "1m1s" },
        { -5 * TimeSpan.TicksPerSecond, "-5s" },
        { -15, "-1.5µs" },
        { long.MaxValue / 100, "2562047h47m16.8547758s" },
    };

    [Theory]
    [MemberData(nameof(FormatRows))]
    public void FormatsLikeGoDurationString(long ticks, string expected)
    {
        Assert.Equal(expected, GoDuration.Format(TimeSpan.FromTicks(ticks)));
    }

    [Fact]
    public void FormatsTheExtremesOfTimeSpan()
    {
        foreach (var value in new[] { TimeSpan.MaxValue, TimeSpan.MinValue + TimeSpan.FromTicks(1), TimeSpan.FromTicks(1) })
        {
            var text = GoDuration.Format(value);
            Assert.Equal(value, GoDuration.Parse(text));
        }
        Assert.StartsWith("-", GoDuration.Format(TimeSpan.MinValue), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(FormatRows))]
    public void FormatReadsBack(long ticks, string text)
    {
        Assert.Equal(TimeSpan.FromTicks(ticks), GoDuration.Parse(text));
    }
}
