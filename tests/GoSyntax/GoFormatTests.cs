using Failmail.GoSyntax;
using Failmail.Hosting;

namespace Failmail.Tests.GoSyntax;

public sealed class GoFormatTests
{
    [Fact]
    public void ZeroTimeIsGosZero()
    {
        Assert.Equal("0001-01-01T00:00:00Z", GoFormat.Rfc3339Nano(DateTimeOffset.MinValue));
    }

    [Fact]
    public void OffsetIsWrittenWithColonAndUtcAsZ()
    {
        Assert.Equal("2014-02-28T23:00:05-05:00", GoFormat.Rfc3339Nano(new DateTimeOffset(2014, 2, 28, 23, 0, 5, TimeSpan.FromHours(-5))));
        Assert.Equal("2014-03-01T04:00:05Z", GoFormat.Rfc3339Nano(new DateTimeOffset(2014, 3, 1, 4, 0, 5, TimeSpan.Zero)));
        Assert.Equal("2014-03-01T09:30:05+05:30", GoFormat.Rfc3339Nano(new DateTimeOffset(2014, 3, 1, 9, 30, 5, new TimeSpan(5, 30, 0))));
    }

    [Fact]
    public void FractionIsTrimmedOfTrailingZeros()
    {
        var whole = new DateTimeOffset(2014, 3, 1, 4, 0, 5, TimeSpan.Zero);

        Assert.Equal("2014-03-01T04:00:05.5Z", GoFormat.Rfc3339Nano(whole.AddMilliseconds(500)));
        Assert.Equal("2014-03-01T04:00:05.0123Z", GoFormat.Rfc3339Nano(whole.AddTicks(123_000)));
        Assert.Equal("2014-03-01T04:00:05.0000001Z", GoFormat.Rfc3339Nano(whole.AddTicks(1)));
    }
}
