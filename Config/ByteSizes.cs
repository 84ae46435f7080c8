using System.Globalization;

namespace Failmail.Config;

// Byte counts as settings write them: plain bytes, or a k (KiB) or M (MiB) suffix, in either
// case ("2M", "512k", "1000000"). Format gives the shortest exact form.
internal static class ByteSizes
{
    public static bool TryParse(string text, out long value)
    {
        ArgumentNullException.ThrowIfNull(text);
        value = 0;
        var s = text.Trim();
        var scale = 1L;
        if (s.Length > 0 && s[^1] is 'k' or 'K' or 'm' or 'M')
        {
            scale = s[^1] is 'k' or 'K' ? 1024 : 1024 * 1024;
            s = s[..^1];
        }
        if (s.Length == 0 || !s.All(char.IsAsciiDigit)
            || !long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            || number > long.MaxValue / scale)
        {
            return false;
        }
        value = number * scale;
        return true;
    }

    public static string Format(long value) => value switch
    {
        > 0 when value % (1024 * 1024) == 0 => (value / (1024 * 1024)).ToString(CultureInfo.InvariantCulture) + "M",
        > 0 when value % 1024 == 0 => (value / 1024).ToString(CultureInfo.InvariantCulture) + "k",
        _ => value.ToString(CultureInfo.InvariantCulture),
    };
}
