using System.Text;

namespace Failmail.Outputs;

// Cuts text to a platform's limit at a character boundary: never between the halves of a
// surrogate pair (Slack, Discord and Teams count UTF-16 units), never inside a UTF-8
// sequence (IRC counts bytes). A cut text ends in "…" within the limit.
internal static class TextCut
{
    public const string Marker = "…";

    // At most `max` UTF-16 code units.
    public static string Chars(string text, int max)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= max)
        {
            return text;
        }
        if (max <= Marker.Length)
        {
            return Marker[..Math.Max(0, max)];
        }
        var end = max - Marker.Length;
        if (char.IsHighSurrogate(text[end - 1]))
        {
            end--;
        }
        return string.Concat(text.AsSpan(0, end), Marker);
    }

    // At most `max` bytes of UTF-8.
    public static string Utf8(string text, int max)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Encoding.UTF8.GetByteCount(text) <= max)
        {
            return text;
        }
        var budget = max - Encoding.UTF8.GetByteCount(Marker);
        var used = 0;
        var end = 0;
        while (end < text.Length)
        {
            var width = char.IsSurrogatePair(text, end) ? 2 : 1;
            var bytes = Encoding.UTF8.GetByteCount(text.AsSpan(end, width));
            if (used + bytes > budget)
            {
                break;
            }
            used += bytes;
            end += width;
        }
        return budget < 0 ? "" : string.Concat(text.AsSpan(0, end), Marker);
    }

    // Valid UTF-16: a lone surrogate (from a hostile or broken header) becomes U+FFFD, so no
    // JSON writer or encoder downstream can refuse the text.
    public static string Valid(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(char.IsSurrogate))
        {
            return text;
        }
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(chars[i]))
            {
                chars[i] = '\uFFFD';
            }
        }
        return new string(chars);
    }

    // One line: control characters (CR, LF, tabs, ESC) become spaces, so hostile subjects
    // cannot break a chat line, an IRC command or an SMS into several.
    public static string OneLine(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(char.IsControl))
        {
            return text;
        }
        var b = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            b.Append(char.IsControl(c) ? ' ' : c);
        }
        return b.ToString();
    }
}
