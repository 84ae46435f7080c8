using System.Globalization;
using System.Text;

namespace Failmail.GoSyntax;

// Go formatting failmail's digests used (spec Appendix A).
internal static class GoFormat
{
    // Go's RFC1123Z: "Mon, 02 Jan 2006 15:04:05 -0700" (no colon in the offset).
    public static string Rfc1123Z(DateTimeOffset time)
    {
        var offset = time.Offset;
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        var abs = offset.Duration();
        return string.Create(CultureInfo.InvariantCulture,
            $"{time.ToString("ddd, dd MMM yyyy HH:mm:ss", CultureInfo.InvariantCulture)} {sign}{abs.Hours:00}{abs.Minutes:00}");
    }

    // Go's time.RFC3339Nano as encoding/json writes it (spec appendix A): the fraction with
    // trailing zeros trimmed (no dot when zero; .NET's F specifier does both), "Z" for UTC,
    // otherwise ±hh:mm. MinValue is Go's zero time.
    public static string Rfc3339Nano(DateTimeOffset value) => value.Offset == TimeSpan.Zero
        ? value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture)
        : value.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture);

    // Go's strconv.Quote: a double-quoted literal; printable Unicode stays as is.
    public static string Quote(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var sb = new StringBuilder(s.Length + 2);
        sb.Append('"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); continue;
                case '\\': sb.Append("\\\\"); continue;
                case '\a': sb.Append("\\a"); continue;
                case '\b': sb.Append("\\b"); continue;
                case '\f': sb.Append("\\f"); continue;
                case '\n': sb.Append("\\n"); continue;
                case '\r': sb.Append("\\r"); continue;
                case '\t': sb.Append("\\t"); continue;
                case '\v': sb.Append("\\v"); continue;
            }
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                sb.Append(c).Append(s[++i]);
                continue;
            }
            if (char.IsSurrogate(c))
            {
                sb.Append("\\ufffd");
                continue;
            }
            if (c < 0x20 || c == 0x7F)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
                continue;
            }
            var category = char.GetUnicodeCategory(c);
            if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.OtherNotAssigned
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator || (char.IsWhiteSpace(c) && c != ' '))
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                continue;
            }
            sb.Append(c);
        }
        sb.Append('"');
        return sb.ToString();
    }
}
