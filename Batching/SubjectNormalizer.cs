using System.Text;

namespace Failmail.Batching;

// --group-normalize and the `normalize` filter (issue 13): the variable parts of an alert's
// text become placeholders, so "disk 91% full on web-17" and "disk 93% full on web-4" are one
// group, "disk <num>% full on web-<num>". Sentry's parameterisation is the model; tried in its
// order at each token start: e-mail addresses, URLs, IPv4/IPv6 addresses, UUIDs, hex ids (8 or
// more hex digits with a digit and a letter, or 0x...), dates and times, durations, numbers.
//
// Content is hostile, so this is a hand-written scanner, not a regex: a match is tried only
// where a token starts (after a character that is not a letter, digit or '_', as regex \b),
// every matcher that can cross punctuation is capped (MaxScan), and a failed token is skipped
// whole, so the cost is linear in the input.
internal static class SubjectNormalizer
{
    private const int MaxScan = 64;
    private const int MaxDomain = 253;
    // An example is for the eye: a few words, not a copy of a 998-byte subject.
    private const int MaxExample = 80;

    public const string Email = "<email>";
    public const string Url = "<url>";
    public const string Ip = "<ip>";
    public const string Uuid = "<uuid>";
    public const string Hex = "<hex>";
    public const string Date = "<date>";
    public const string Time = "<time>";
    public const string Duration = "<duration>";
    public const string Number = "<num>";

    public static string Normalize(string? text) => Normalize(text, out _);

    // example: the whitespace-separated words of text that held a replaced value, joined by
    // "/" ("91%/web-17"), or "" when nothing was replaced: what the digest shows as "e.g.".
    public static string Normalize(string? text, out string example)
    {
        example = "";
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        StringBuilder? sb = null;
        StringBuilder? words = null;
        var wordEnd = 0;
        var copied = 0;
        var i = 0;
        while (i < text.Length)
        {
            if (IsWord(text[i]) || text[i] is ':' or '-' or '+')
            {
                if (i == 0 || !IsWord(text[i - 1]))
                {
                    var (length, placeholder) = Match(text, i);
                    if (length > 0)
                    {
                        sb ??= new StringBuilder(text.Length);
                        sb.Append(text, copied, i - copied).Append(placeholder);
                        copied = i + length;
                        // Each word is found once (its bounds are scanned once): linear.
                        if (i >= wordEnd)
                        {
                            var wordStart = WordStart(text, i);
                            wordEnd = WordEnd(text, i + length);
                            words ??= new StringBuilder();
                            if (words.Length < MaxExample)
                            {
                                if (words.Length > 0)
                                {
                                    words.Append('/');
                                }
                                words.Append(text, wordStart, Math.Clamp(Trimmed(text, wordEnd) - wordStart, 0, MaxExample));
                            }
                        }
                        i += length;
                        continue;
                    }
                }
                // Not a value: skip the rest of this word-character run (linear time).
                if (IsWord(text[i]))
                {
                    while (i < text.Length && IsWord(text[i]))
                    {
                        i++;
                    }
                    continue;
                }
            }
            i++;
        }
        if (sb is null)
        {
            return text;
        }
        sb.Append(text, copied, text.Length - copied);
        example = words?.ToString() ?? "";
        return sb.ToString();
    }

    // The length matched at start and its placeholder, or (0, "").
    private static (int Length, string Placeholder) Match(string s, int start)
    {
        int n;
        if ((n = MatchEmail(s, start)) > 0)
        {
            return (n, Email);
        }
        if ((n = MatchUrl(s, start)) > 0)
        {
            return (n, Url);
        }
        if ((n = MatchIpv4(s, start)) > 0 || (n = MatchIpv6(s, start)) > 0)
        {
            return (n, Ip);
        }
        if ((n = MatchUuid(s, start)) > 0)
        {
            return (n, Uuid);
        }
        if ((n = MatchHex(s, start)) > 0)
        {
            return (n, Hex);
        }
        if ((n = MatchDate(s, start)) > 0)
        {
            return (n, Date);
        }
        if ((n = MatchTime(s, start)) > 0)
        {
            return (n, Time);
        }
        if ((n = MatchDuration(s, start)) > 0)
        {
            return (n, Duration);
        }
        if ((n = MatchNumber(s, start)) > 0)
        {
            return (n, Number);
        }
        return (0, "");
    }

    // local@domain.tld: local part of word characters and . % + - (at most 64), a domain of
    // labels with at least one dot.
    private static int MatchEmail(string s, int start)
    {
        var i = start;
        while (i < s.Length && i - start < MaxScan && (IsWord(s[i]) || s[i] is '.' or '%' or '+' or '-'))
        {
            i++;
        }
        if (i == start || i >= s.Length || s[i] != '@')
        {
            return 0;
        }
        var domain = MatchDomain(s, i + 1);
        return domain > 0 ? i + 1 + domain - start : 0;
    }

    // Labels of letters, digits and '-' joined by dots, at least two, ending in a letter label.
    private static int MatchDomain(string s, int start)
    {
        var i = start;
        var dots = 0;
        var lastDot = -1;
        while (i < s.Length && i - start < MaxDomain && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '-' || s[i] == '.'))
        {
            if (s[i] == '.')
            {
                if (i == start || s[i - 1] == '.')
                {
                    break;
                }
                dots++;
                lastDot = i;
            }
            i++;
        }
        if (i > start && s[i - 1] == '.')
        {
            i--; // a sentence's full stop
            dots--;
            lastDot = s.LastIndexOf('.', i - 1, i - start);
        }
        if (dots < 1 || lastDot < 0 || lastDot + 1 >= i || !char.IsAsciiLetter(s[lastDot + 1]))
        {
            return 0;
        }
        return i - start;
    }

    // scheme://rest, up to white space, without trailing punctuation.
    private static int MatchUrl(string s, int start)
    {
        var i = start;
        while (i < s.Length && i - start < 16 && (char.IsAsciiLetterOrDigit(s[i]) || s[i] is '+' or '.' or '-'))
        {
            i++;
        }
        if (i == start || !char.IsAsciiLetter(s[start]) || i + 3 > s.Length || string.CompareOrdinal(s, i, "://", 0, 3) != 0)
        {
            return 0;
        }
        var end = i + 3;
        while (end < s.Length && !char.IsWhiteSpace(s[end]) && s[end] is not ('"' or '<' or '>'))
        {
            end++;
        }
        while (end > i + 3 && s[end - 1] is '.' or ',' or ';' or ':' or '!' or '?' or ')' or ']' or '}' or '\'')
        {
            end--;
        }
        return end > i + 3 ? end - start : 0;
    }

    private static int MatchIpv4(string s, int start)
    {
        var i = start;
        for (var part = 0; part < 4; part++)
        {
            if (part > 0)
            {
                if (i >= s.Length || s[i] != '.')
                {
                    return 0;
                }
                i++;
            }
            var digits = 0;
            var value = 0;
            while (i < s.Length && char.IsAsciiDigit(s[i]) && digits < 4)
            {
                value = value * 10 + (s[i] - '0');
                digits++;
                i++;
            }
            if (digits == 0 || digits > 3 || value > 255)
            {
                return 0;
            }
        }
        return EndsToken(s, i) ? i - start : 0;
    }

    // Hex groups of 1-4 digits joined by ':': eight of them, or fewer with one '::'.
    private static int MatchIpv6(string s, int start)
    {
        var i = start;
        var groups = 0;
        var compressed = false;
        var end = start;
        while (i < s.Length && i - start < 45)
        {
            if (s[i] == ':' && i + 1 < s.Length && s[i + 1] == ':' && !compressed)
            {
                compressed = true;
                i += 2;
                end = i;
                continue;
            }
            var digits = 0;
            while (i < s.Length && char.IsAsciiHexDigit(s[i]) && digits < 5)
            {
                digits++;
                i++;
            }
            if (digits == 0 || digits > 4)
            {
                break;
            }
            groups++;
            end = i;
            if (i < s.Length && s[i] == ':' && !(i + 1 < s.Length && s[i + 1] == ':'))
            {
                if (i + 1 < s.Length && char.IsAsciiHexDigit(s[i + 1]))
                {
                    i++;
                    continue;
                }
                break;
            }
        }
        var valid = compressed ? groups is >= 1 and <= 7 : groups == 8;
        return valid && EndsToken(s, end) && (end >= s.Length || s[end] != ':') ? end - start : 0;
    }

    private static int MatchUuid(string s, int start)
    {
        ReadOnlySpan<int> runs = [8, 4, 4, 4, 12];
        var i = start;
        for (var r = 0; r < runs.Length; r++)
        {
            if (r > 0)
            {
                if (i >= s.Length || s[i] != '-')
                {
                    return 0;
                }
                i++;
            }
            for (var k = 0; k < runs[r]; k++, i++)
            {
                if (i >= s.Length || !char.IsAsciiHexDigit(s[i]))
                {
                    return 0;
                }
            }
        }
        return EndsToken(s, i) ? i - start : 0;
    }

    // 0x1f..., or a run of 8 or more hex digits with at least one digit and one letter (all
    // digits is a number; all letters a word such as "deadbeef" or "acceded").
    private static int MatchHex(string s, int start)
    {
        if (start + 2 < s.Length && s[start] == '0' && (s[start + 1] | 0x20) == 'x' && char.IsAsciiHexDigit(s[start + 2]))
        {
            var j = start + 2;
            while (j < s.Length && char.IsAsciiHexDigit(s[j]))
            {
                j++;
            }
            return EndsToken(s, j) ? j - start : 0;
        }
        var i = start;
        bool digit = false, letter = false;
        while (i < s.Length && char.IsAsciiHexDigit(s[i]))
        {
            digit |= char.IsAsciiDigit(s[i]);
            letter |= !char.IsAsciiDigit(s[i]);
            i++;
        }
        return i - start >= 8 && digit && letter && EndsToken(s, i) ? i - start : 0;
    }

    // 2024-01-05, 2024/01/05, 05/01/2024, 05.01.2024, and ISO 8601 with a time ("2024-01-05T10:00:00.123Z").
    private static int MatchDate(string s, int start)
    {
        var i = start;
        if (Digits(s, i, 4) && i + 4 < s.Length && s[i + 4] is '-' or '/' && Digits(s, i + 5, 2) && i + 7 < s.Length && s[i + 7] == s[i + 4] && Digits(s, i + 8, 2))
        {
            i += 10;
            if (i < s.Length && s[i] is 'T' or 't' && MatchTime(s, i + 1) is var t and > 0)
            {
                return i + 1 + t - start;
            }
            return EndsToken(s, i) ? i - start : 0;
        }
        if (Digits(s, i, 2) && i + 2 < s.Length && s[i + 2] is '/' or '.' or '-' && Digits(s, i + 3, 2) && i + 5 < s.Length && s[i + 5] == s[i + 2] && Digits(s, i + 6, 4))
        {
            i += 10;
            return EndsToken(s, i) ? i - start : 0;
        }
        return 0;
    }

    // 10:00, 10:00:00, 10:00:00.123, with an optional Z or ±hh:mm / ±hhmm zone.
    private static int MatchTime(string s, int start)
    {
        var i = start;
        var h = Digits(s, i, 2) ? 2 : Digits(s, i, 1) ? 1 : 0;
        if (h == 0 || i + h + 2 >= s.Length || s[i + h] != ':' || !Digits(s, i + h + 1, 2))
        {
            return 0;
        }
        i += h + 3;
        if (i + 2 < s.Length && s[i] == ':' && Digits(s, i + 1, 2))
        {
            i += 3;
            if (i + 1 < s.Length && s[i] is '.' or ',' && char.IsAsciiDigit(s[i + 1]))
            {
                i++;
                while (i < s.Length && char.IsAsciiDigit(s[i]) && i - start < MaxScan)
                {
                    i++;
                }
            }
        }
        if (i < s.Length && s[i] is 'Z' or 'z' && EndsToken(s, i + 1))
        {
            return i + 1 - start;
        }
        if (i < s.Length && s[i] is '+' or '-' && Digits(s, i + 1, 2))
        {
            var z = i + 3;
            if (z < s.Length && s[z] == ':')
            {
                z++;
            }
            if (Digits(s, z, 2) && EndsToken(s, z + 2))
            {
                return z + 2 - start;
            }
        }
        return EndsToken(s, i) && (i >= s.Length || s[i] != ':') ? i - start : 0;
    }

    // One or more of number and unit, Go style: 250ms, 1.5s, 1h30m, 3d, 2w.
    private static int MatchDuration(string s, int start)
    {
        var i = start;
        var parts = 0;
        while (i < s.Length && i - start < MaxScan)
        {
            var n = UnsignedDecimal(s, i);
            if (n == 0)
            {
                break;
            }
            var unit = Unit(s, i + n);
            if (unit == 0)
            {
                break;
            }
            i += n + unit;
            parts++;
        }
        return parts > 0 && EndsToken(s, i) ? i - start : 0;
    }

    private static int Unit(string s, int i)
    {
        if (i >= s.Length)
        {
            return 0;
        }
        if (string.CompareOrdinal(s, i, "min", 0, 3) == 0 || string.CompareOrdinal(s, i, "sec", 0, 3) == 0)
        {
            return 3;
        }
        if (i + 1 < s.Length && s[i + 1] == 's' && s[i] is 'n' or 'u' or 'µ' or 'm')
        {
            return 2;
        }
        return s[i] is 's' or 'm' or 'h' or 'd' or 'w' ? 1 : 0;
    }

    // 42, 3.14, 1,204 (thousands), -7; not followed by a letter or digit ("5xx" and "v2" stay).
    private static int MatchNumber(string s, int start)
    {
        var i = start;
        if (s[i] is '-' or '+' && i + 1 < s.Length && char.IsAsciiDigit(s[i + 1]))
        {
            i++;
        }
        var n = UnsignedDecimal(s, i);
        if (n == 0)
        {
            return 0;
        }
        i += n;
        return EndsToken(s, i) ? i - start : 0;
    }

    // Digits with thousands groups (",ddd") and a fraction (".ddd"), capped.
    private static int UnsignedDecimal(string s, int start)
    {
        var i = start;
        while (i < s.Length && char.IsAsciiDigit(s[i]) && i - start < MaxScan)
        {
            i++;
        }
        if (i == start)
        {
            return 0;
        }
        while (i < s.Length && s[i] == ',' && Digits(s, i + 1, 3) && (i + 4 >= s.Length || !char.IsAsciiDigit(s[i + 4])) && i - start < MaxScan)
        {
            i += 4;
        }
        if (i + 1 < s.Length && s[i] == '.' && char.IsAsciiDigit(s[i + 1]))
        {
            i++;
            while (i < s.Length && char.IsAsciiDigit(s[i]) && i - start < MaxScan)
            {
                i++;
            }
        }
        return i - start;
    }

    private static bool Digits(string s, int start, int count)
    {
        if (start < 0 || start + count > s.Length)
        {
            return false;
        }
        for (var i = start; i < start + count; i++)
        {
            if (!char.IsAsciiDigit(s[i]))
            {
                return false;
            }
        }
        return true;
    }

    // A value ends where a word does: at the end, or before a character that is not a letter,
    // digit or '_' (so "5xx" and "web17" are not numbers).
    private static bool EndsToken(string s, int i) => i >= s.Length || !IsWord(s[i]);

    private static bool IsWord(char c) => char.IsLetterOrDigit(c) || c == '_';

    private static int WordStart(string s, int i)
    {
        while (i > 0 && !char.IsWhiteSpace(s[i - 1]))
        {
            i--;
        }
        return i;
    }

    private static int WordEnd(string s, int i)
    {
        while (i < s.Length && !char.IsWhiteSpace(s[i]))
        {
            i++;
        }
        return i;
    }

    // Sentence punctuation after the value is not part of the example.
    private static int Trimmed(string s, int end)
    {
        while (end > 0 && s[end - 1] is ',' or ';' or '.' or ')' or ']' or ':')
        {
            end--;
        }
        return end;
    }
}
