using System.Text;

namespace Failmail.GoSyntax;

// The RE2 pattern spellings .NET lacks or reads differently, translated for GoRegex (spec
// Appendix A):
// - (?P<name>...) becomes (?<name>...);
// - \w \d \s (and \W \D \S outside classes) are ASCII-only, as in Go;
// - $ without (?m) means end of text (\z), as in Go;
// - POSIX classes such as [[:alpha:]] become ASCII ranges; a leading ] in a class is a literal.
internal static class GoRegexSyntax
{
    // RE2 → .NET spelling; groups gets, for each of Go's capture groups left to right, its name
    // or null when unnamed. Throws RegexParseException (an ArgumentException) only via the
    // Regex constructor, so error texts come from .NET.
    public static string Translate(string pattern, List<string?> groups)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var multiline = HasFlag(pattern, 'm');
        var sb = new StringBuilder(pattern.Length + 16);
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                var n = pattern[i + 1];
                i++;
                switch (n)
                {
                    case 'w': sb.Append(inClass ? "0-9A-Za-z_" : "[0-9A-Za-z_]"); break;
                    case 'd': sb.Append(inClass ? "0-9" : "[0-9]"); break;
                    case 's': sb.Append(inClass ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]"); break;
                    case 'W' when !inClass: sb.Append("[^0-9A-Za-z_]"); break;
                    case 'D' when !inClass: sb.Append("[^0-9]"); break;
                    case 'S' when !inClass: sb.Append("[^\\t\\n\\f\\r ]"); break;
                    default: sb.Append('\\').Append(n); break;
                }
                continue;
            }
            if (inClass)
            {
                if (c == ']')
                {
                    inClass = false;
                }
                else if (c == '[' && i + 1 < pattern.Length && pattern[i + 1] == ':')
                {
                    // POSIX class [[:alpha:]] inside a bracket: copy through to its ":]".
                    var end = pattern.IndexOf(":]", i + 2, StringComparison.Ordinal);
                    if (end > 0)
                    {
                        sb.Append(PosixClass(pattern[(i + 2)..end]));
                        i = end + 1;
                        continue;
                    }
                }
                sb.Append(c);
                continue;
            }
            switch (c)
            {
                case '[':
                    inClass = true;
                    sb.Append(c);
                    if (i + 1 < pattern.Length && pattern[i + 1] == '^')
                    {
                        sb.Append('^');
                        i++;
                    }
                    if (i + 1 < pattern.Length && pattern[i + 1] == ']')
                    {
                        sb.Append("\\]"); // a leading ] is a literal in RE2
                        i++;
                    }
                    break;
                case '(' when string.CompareOrdinal(pattern, i, "(?P<", 0, 4) == 0 || (string.CompareOrdinal(pattern, i, "(?<", 0, 3) == 0 && i + 3 < pattern.Length && pattern[i + 3] is not ('=' or '!')):
                    {
                        var nameStart = pattern.IndexOf('<', i) + 1;
                        var nameEnd = pattern.IndexOf('>', nameStart);
                        groups.Add(nameEnd > nameStart ? pattern[nameStart..nameEnd] : null);
                        sb.Append("(?<");
                        i = nameStart - 1;
                        break;
                    }
                case '(':
                    if (i + 1 >= pattern.Length || pattern[i + 1] != '?')
                    {
                        groups.Add(null);
                    }
                    sb.Append(c);
                    break;
                case '$' when !multiline:
                    sb.Append("\\z");
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    private static bool HasFlag(string pattern, char flag)
    {
        // (?flags) or (?flags:...) groups, e.g. (?im)
        var i = 0;
        while ((i = pattern.IndexOf("(?", i, StringComparison.Ordinal)) >= 0)
        {
            i += 2;
            while (i < pattern.Length && char.IsAsciiLetter(pattern[i]))
            {
                if (pattern[i] == flag)
                {
                    return true;
                }
                i++;
            }
        }
        return false;
    }

    private static string PosixClass(string name) => name switch
    {
        "alnum" => "0-9A-Za-z",
        "alpha" => "A-Za-z",
        "ascii" => "\\x00-\\x7F",
        "blank" => "\\t ",
        "cntrl" => "\\x00-\\x1F\\x7F",
        "digit" => "0-9",
        "lower" => "a-z",
        "space" => "\\t\\n\\v\\f\\r ",
        "upper" => "A-Z",
        "word" => "0-9A-Za-z_",
        "xdigit" => "0-9A-Fa-f",
        "punct" => "!-/:-@\\[-`{-~",
        "graph" => "!-~",
        "print" => " -~",
        _ => "[:" + name + ":]",
    };
}
