using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Failmail.GoSyntax;

// Go's time.ParseDuration and Duration.String(), so flags, config files and --write-config
// output read and print durations exactly as failmail did ("30s", "5m0s", "1h2m3.5s").
// Go counts in int64 nanoseconds; TimeSpan counts 100 ns ticks, so parsed values are
// truncated to whole ticks and the range is TimeSpan's (wider than Go's ~292 years).
internal static class GoDuration
{
    private const long NanosecondsPerTick = 100;
    private static readonly decimal MaxNanoseconds = (decimal)TimeSpan.MaxValue.Ticks * NanosecondsPerTick;

    public static TimeSpan Parse(string text)
    {
        if (!TryParse(text, out var value, out var error))
        {
            throw new FormatException(error);
        }
        return value;
    }

    public static bool TryParse(string text, out TimeSpan value) => TryParse(text, out value, out _);

    // Grammar (as Go): [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+, or a bare "0" with an optional sign.
    public static bool TryParse(string text, out TimeSpan value, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        value = TimeSpan.Zero;
        error = null;
        var s = text.AsSpan();
        var negative = false;
        if (!s.IsEmpty && (s[0] == '-' || s[0] == '+'))
        {
            negative = s[0] == '-';
            s = s[1..];
        }
        if (s.SequenceEqual("0"))
        {
            return true;
        }
        if (s.IsEmpty)
        {
            error = $"invalid duration \"{text}\"";
            return false;
        }

        decimal total = 0;
        while (!s.IsEmpty)
        {
            if (!(s[0] == '.' || char.IsAsciiDigit(s[0])))
            {
                error = $"invalid duration \"{text}\"";
                return false;
            }

            // Integer part. Past MaxNanoseconds the value overflows whatever the unit.
            decimal whole = 0;
            var digits = 0;
            while (digits < s.Length && char.IsAsciiDigit(s[digits]))
            {
                whole = whole * 10 + (s[digits] - '0');
                if (whole > MaxNanoseconds)
                {
                    error = $"invalid duration \"{text}\" (out of range)";
                    return false;
                }
                digits++;
            }
            s = s[digits..];

            // Fraction part: digits beyond decimal's precision cannot change the result.
            decimal fraction = 0;
            var fractionDigits = 0;
            if (!s.IsEmpty && s[0] == '.')
            {
                s = s[1..];
                decimal scale = 1;
                while (fractionDigits < s.Length && char.IsAsciiDigit(s[fractionDigits]))
                {
                    if (fractionDigits < 24)
                    {
                        scale /= 10;
                        fraction += (s[fractionDigits] - '0') * scale;
                    }
                    fractionDigits++;
                }
                s = s[fractionDigits..];
            }
            if (digits == 0 && fractionDigits == 0)
            {
                error = $"invalid duration \"{text}\"";
                return false;
            }

            var unitLength = 0;
            while (unitLength < s.Length && s[unitLength] != '.' && !char.IsAsciiDigit(s[unitLength]))
            {
                unitLength++;
            }
            if (unitLength == 0)
            {
                error = $"missing unit in duration \"{text}\"";
                return false;
            }
            var unit = s[..unitLength];
            s = s[unitLength..];
            if (!TryGetUnit(unit, out var nanosecondsPerUnit))
            {
                error = $"unknown unit \"{unit}\" in duration \"{text}\"";
                return false;
            }

            total += whole * nanosecondsPerUnit + decimal.Floor(fraction * nanosecondsPerUnit);
            if (total > MaxNanoseconds)
            {
                error = $"invalid duration \"{text}\" (out of range)";
                return false;
            }
        }

        var ticks = (long)decimal.Truncate(total / NanosecondsPerTick);
        value = TimeSpan.FromTicks(negative ? -ticks : ticks);
        return true;
    }

    // Go's Duration.String(): "0s"; under a second a single unit with a fraction ("1.5ms",
    // "250ms", "1µs"); otherwise h, m and s with the fraction on the seconds ("1h0m0s", "1.5s").
    public static string Format(TimeSpan value)
    {
        // UInt128 holds TimeSpan.MinValue's magnitude in nanoseconds without overflow.
        var ticks = (Int128)value.Ticks;
        var negative = ticks < 0;
        var u = (UInt128)(negative ? -ticks : ticks) * NanosecondsPerTick;
        string text;
        if (u < 1_000_000_000)
        {
            if (u == 0)
            {
                return "0s";
            }
            var (precision, unit) = u < 1_000 ? (0, "ns") : u < 1_000_000 ? (3, "µs") : (6, "ms");
            var fraction = FormatFraction(u, precision, out var integer);
            text = string.Create(CultureInfo.InvariantCulture, $"{integer}{fraction}{unit}");
        }
        else
        {
            var fraction = FormatFraction(u, 9, out var seconds);
            var minutes = seconds / 60;
            var hours = minutes / 60;
            text = hours > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{hours}h{minutes % 60}m{seconds % 60}{fraction}s")
                : minutes > 0
                    ? string.Create(CultureInfo.InvariantCulture, $"{minutes}m{seconds % 60}{fraction}s")
                    : string.Create(CultureInfo.InvariantCulture, $"{seconds}{fraction}s");
        }
        return negative ? "-" + text : text;
    }

    // ".12345" for the lowest `precision` decimal digits of v, trailing zeros dropped, and
    // nothing at all when they are zero; `integer` is what remains above them.
    private static string FormatFraction(UInt128 v, int precision, out UInt128 integer)
    {
        var digits = new char[precision];
        var length = 0;
        var printing = false;
        for (var i = precision - 1; i >= 0; i--)
        {
            var digit = (int)(v % 10);
            printing |= digit != 0;
            if (printing)
            {
                digits[i] = (char)('0' + digit);
                length = Math.Max(length, i + 1);
            }
            v /= 10;
        }
        integer = v;
        if (!printing)
        {
            return "";
        }
        return "." + new string(digits, 0, length);
    }

    private static bool TryGetUnit(ReadOnlySpan<char> unit, out long nanoseconds)
    {
        nanoseconds = unit switch
        {
            "ns" => 1,
            "us" or "µs" or "μs" => 1_000, // U+00B5 micro sign and U+03BC Greek mu, as Go
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => 0,
        };
        return nanoseconds != 0;
    }
}
