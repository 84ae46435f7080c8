using System.Globalization;
using System.Text;

namespace Failmail.Hosting;

// Go's time.RFC3339Nano as encoding/json writes it (spec appendix A): fraction with trailing
// zeros trimmed (none when zero), "Z" for UTC, otherwise ±hh:mm. MinValue is Go's zero time.
internal static class GoTime
{
    public static string FormatRfc3339Nano(DateTimeOffset value)
    {
        var builder = new StringBuilder(35);
        builder.Append(value.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture));
        var fraction = value.Ticks % TimeSpan.TicksPerSecond;
        if (fraction != 0)
        {
            // Ticks are 100 ns: seven digits, then trimmed.
            builder.Append('.').Append(fraction.ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0'));
        }
        if (value.Offset == TimeSpan.Zero)
        {
            builder.Append('Z');
        }
        else
        {
            var offset = value.Offset;
            builder.Append(offset < TimeSpan.Zero ? '-' : '+');
            offset = offset.Duration();
            builder.Append(offset.Hours.ToString("D2", CultureInfo.InvariantCulture)).Append(':')
                .Append(offset.Minutes.ToString("D2", CultureInfo.InvariantCulture));
        }
        return builder.ToString();
    }
}
