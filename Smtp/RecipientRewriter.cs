using System.Text;
using System.Text.RegularExpressions;

namespace Failmail.Smtp;

// --rewrite-src/--rewrite-dest with failmail's semantics (spec §6): a recipient the regex
// does not match is kept; one it matches becomes the dest template expanded once per
// non-overlapping match, concatenated (unmatched text is dropped). The list is then
// deduplicated and sorted ordinally. The regex is Go RE2 syntax, translated:
// - (?P<name>...) and (?<name>...) become plain groups, numbered left to right as Go
//   numbers them (.NET would number named groups after the unnamed ones);
// - \d \w \s (and negations) are ASCII-only, as in Go;
// - NonBacktracking gives RE2's linear time and, like RE2, has no backreferences/lookaround.
internal sealed class RecipientRewriter
{
    private readonly Regex? _regex;
    private readonly string _dest = "";
    private readonly Dictionary<string, int> _names = new(StringComparer.Ordinal);

    public RecipientRewriter(string source, string dest)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(dest);
        if (source.Length == 0 && dest.Length == 0)
        {
            return;
        }
        if (source.Length == 0 || dest.Length == 0)
        {
            throw new ArgumentException("--rewrite-src and --rewrite-dest must be given together");
        }
        var pattern = Translate(source, _names);
        try
        {
            _regex = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"invalid --rewrite-src {source}: {e.Message}", nameof(source), e);
        }
        _dest = dest;
    }

    public static RecipientRewriter None { get; } = new("", "");

    public string Rewrite(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (_regex is null)
        {
            return address;
        }
        var result = new StringBuilder();
        var any = false;
        var previousEnd = -1;
        for (var match = _regex.Match(address); match.Success; match = match.NextMatch())
        {
            var end = match.Index + match.Length;
            // Go's FindAll skips an empty match right after the previous match, so ".*"
            // against "a@b" matches once (.NET would also match the empty end).
            var skip = match.Length == 0 && match.Index == previousEnd;
            previousEnd = end;
            if (skip)
            {
                continue;
            }
            any = true;
            Expand(match, result);
        }
        return any ? result.ToString() : address;
    }

    public IReadOnlyList<string> RewriteAll(IEnumerable<string> recipients)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var recipient in recipients)
        {
            set.Add(Rewrite(recipient));
        }
        return [.. set];
    }

    // Go's Regexp.Expand: $$, $name, ${name}; a name is the longest run of [A-Za-z0-9_];
    // all digits means a group number; unknown groups expand to ""; a malformed "$" is literal.
    private void Expand(Match match, StringBuilder output)
    {
        var t = _dest;
        var i = 0;
        while (i < t.Length)
        {
            var dollar = t.IndexOf('$', i);
            if (dollar < 0)
            {
                output.Append(t, i, t.Length - i);
                break;
            }
            output.Append(t, i, dollar - i);
            i = dollar + 1;
            if (i < t.Length && t[i] == '$')
            {
                output.Append('$');
                i++;
                continue;
            }
            string name;
            if (i < t.Length && t[i] == '{')
            {
                var close = t.IndexOf('}', i);
                var inner = close < 0 ? "" : t[(i + 1)..close];
                if (inner.Length == 0 || !inner.All(IsNameChar))
                {
                    output.Append('$');
                    continue;
                }
                name = inner;
                i = close + 1;
            }
            else
            {
                var start = i;
                while (i < t.Length && IsNameChar(t[i]))
                {
                    i++;
                }
                if (i == start)
                {
                    output.Append('$');
                    continue;
                }
                name = t[start..i];
            }
            var number = name.All(char.IsAsciiDigit)
                ? (int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : -1)
                : _names.GetValueOrDefault(name, -1);
            if (number >= 0 && number < match.Groups.Count && match.Groups[number].Success)
            {
                output.Append(match.Groups[number].Value);
            }
        }
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    // Rewrites RE2 syntax into .NET syntax with the same meaning (see the class comment).
    internal static string Translate(string pattern, Dictionary<string, int> names)
    {
        var sb = new StringBuilder(pattern.Length + 16);
        var inClass = false;
        var group = 0;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                var next = pattern[i + 1];
                var ascii = AsciiClass(next, inClass);
                sb.Append(ascii ?? pattern.Substring(i, 2));
                i++;
                continue;
            }
            if (inClass)
            {
                // "]" right after "[" or "[^" is a literal, as in Go.
                if (c == ']' && !(pattern[i - 1] == '[' || (pattern[i - 1] == '^' && i >= 2 && pattern[i - 2] == '[')))
                {
                    inClass = false;
                }
                sb.Append(c);
                continue;
            }
            if (c == '[')
            {
                inClass = true;
                sb.Append(c);
                continue;
            }
            if (c == '(')
            {
                var rest = pattern.AsSpan(i + 1);
                var nameStart = rest.StartsWith("?P<") ? 3 : rest.StartsWith("?<") && !rest.StartsWith("?<=") && !rest.StartsWith("?<!") ? 2 : -1;
                if (nameStart > 0)
                {
                    var close = rest.IndexOf('>');
                    if (close > nameStart)
                    {
                        group++;
                        names.TryAdd(rest[nameStart..close].ToString(), group);
                        sb.Append('(');
                        i += close + 1;
                        continue;
                    }
                }
                else if (!rest.StartsWith("?"))
                {
                    group++;
                }
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    // Go's \d, \w and \s are ASCII-only; .NET's are Unicode.
    private static string? AsciiClass(char escape, bool inClass) => (escape, inClass) switch
    {
        ('d', false) => "[0-9]",
        ('d', true) => "0-9",
        ('D', false) => "[^0-9]",
        ('D', true) => @"\x00-\x2F\x3A-\uFFFF",
        ('w', false) => "[0-9A-Za-z_]",
        ('w', true) => "0-9A-Za-z_",
        ('W', false) => "[^0-9A-Za-z_]",
        ('W', true) => @"\x00-\x2F\x3A-\x40\x5B-\x5E\x60\x7B-\uFFFF",
        ('s', false) => @"[\t\n\f\r ]",
        ('s', true) => @"\t\n\f\r ",
        ('S', false) => @"[^\t\n\f\r ]",
        ('S', true) => @"\x00-\x08\x0B\x0E-\x1F\x21-\uFFFF",
        _ => null,
    };
}
