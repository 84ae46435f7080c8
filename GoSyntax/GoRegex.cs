using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;

namespace Failmail.GoSyntax;

// failmail's match/replace used Go RE2 regexes. The pattern is translated to .NET's spelling
// (GoRegexSyntax), and this reproduces Go's semantics where .NET differs (spec Appendix A):
// - replacement templates use Go's Expand rules ($1, ${1}, ${name}, $name with the longest
//   [A-Za-z0-9_] run, $$; an unknown group expands to ""), done here rather than through
//   .NET's $-syntax, which differs;
// - replace-all skips an empty match right after a previous match.
// Each pattern is compiled once and cached. Like RE2, the NonBacktracking engine runs in time
// linear in the input and rejects backreferences and lookaround; a match timeout stays as a
// second guard.
internal static class GoRegex
{
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(250);
    private const int MaxCached = 1024;
    private static readonly ConcurrentDictionary<string, Compiled> Cache = new(StringComparer.Ordinal);

    public static Regex Get(string pattern) => GetCompiled(pattern).Regex;

    private static Compiled GetCompiled(string pattern)
    {
        if (Cache.TryGetValue(pattern, out var compiled))
        {
            return compiled;
        }
        var groups = new List<string?>();
        compiled = new Compiled(new Regex(GoRegexSyntax.Translate(pattern, groups), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, MatchTimeout), groups.ToArray());
        if (Cache.Count < MaxCached)
        {
            Cache.TryAdd(pattern, compiled);
        }
        return compiled;
    }

    // GoGroups[k - 1] is the name of Go's capture group k, or null when unnamed. .NET numbers
    // unnamed groups before named ones, Go numbers all groups left to right.
    private sealed record Compiled(Regex Regex, string?[] GoGroups);

    // The leftmost match, or "" (failmail's match).
    public static string Match(string pattern, string text)
    {
        var m = Get(pattern).Match(text);
        return m.Success ? m.Value : "";
    }

    // Go's Regexp.ReplaceAllString (failmail's replace).
    public static string ReplaceAll(string pattern, string text, string replacement)
    {
        var compiled = GetCompiled(pattern);
        var m = compiled.Regex.Match(text);
        if (!m.Success)
        {
            return text;
        }
        var builder = new StringBuilder(text.Length + 16);
        var copied = 0;
        var lastMatchEnd = -1;
        for (; m.Success; m = m.NextMatch())
        {
            var end = m.Index + m.Length;
            builder.Append(text, copied, m.Index - copied);
            copied = m.Index;
            if (end > lastMatchEnd || m.Index == 0)
            {
                Expand(builder, compiled, m, replacement);
                copied = end;
            }
            lastMatchEnd = end;
        }
        builder.Append(text, copied, text.Length - copied);
        return builder.ToString();
    }

    // Go's Regexp.Expand: appends template with $1, ${name}, $$ filled from m, a match of
    // Get(pattern). Shared with --rewrite-dest (Smtp/RecipientRewriter).
    public static void Expand(StringBuilder builder, string pattern, System.Text.RegularExpressions.Match m, string template) =>
        Expand(builder, GetCompiled(pattern), m, template);

    private static void Expand(StringBuilder builder, Compiled compiled, System.Text.RegularExpressions.Match m, string template)
    {
        var i = 0;
        while (i < template.Length)
        {
            var dollar = template.IndexOf('$', i);
            if (dollar < 0 || dollar == template.Length - 1)
            {
                builder.Append(template, i, template.Length - i);
                return;
            }
            builder.Append(template, i, dollar - i);
            i = dollar + 1;
            if (template[i] == '$')
            {
                builder.Append('$');
                i++;
                continue;
            }
            string? name = null;
            if (template[i] == '{')
            {
                var close = template.IndexOf('}', i + 1);
                if (close > i + 1 && IsName(template.AsSpan(i + 1, close - i - 1)))
                {
                    name = template.Substring(i + 1, close - i - 1);
                    i = close + 1;
                }
            }
            else
            {
                var start = i;
                while (i < template.Length && IsNameChar(template[i]))
                {
                    i++;
                }
                if (i > start)
                {
                    name = template[start..i];
                }
            }
            if (name is null)
            {
                builder.Append('$'); // Go keeps a malformed $ literally
                continue;
            }
            var group = FindGroup(compiled, m, name);
            if (group is { Success: true })
            {
                builder.Append(group.Value);
            }
        }
    }

    private static Group? FindGroup(Compiled compiled, System.Text.RegularExpressions.Match m, string name)
    {
        if (!int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            return compiled.Regex.GroupNumberFromName(name) >= 0 && Array.IndexOf(compiled.GoGroups, name) >= 0 ? m.Groups[name] : null;
        }
        if (number == 0)
        {
            return m.Groups[0];
        }
        if (number > compiled.GoGroups.Length)
        {
            return null;
        }
        if (compiled.GoGroups[number - 1] is { } named)
        {
            return m.Groups[named];
        }
        var unnamed = 0;
        for (var k = 0; k < number; k++)
        {
            if (compiled.GoGroups[k] is null)
            {
                unnamed++;
            }
        }
        return m.Groups[unnamed];
    }

    private static bool IsName(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!IsNameChar(c))
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
