using System.Text.RegularExpressions;

namespace Failmail.Silences;

// One matcher of a silence, in Alertmanager API v2's shape: a field name, a value, and whether
// the value is an anchored regular expression (isRegex) and whether a match or a mismatch is
// wanted (isEqual). Regexes run without backtracking (linear time, whatever the subject) and
// are compiled once, when the silence is made or loaded.
internal sealed class SilenceMatcher
{
    public const int MaxValueLength = 1024;

    private readonly Regex? _regex;

    private SilenceMatcher(string name, string value, bool isRegex, bool isEqual, Regex? regex)
    {
        Name = name;
        Value = value;
        IsRegex = isRegex;
        IsEqual = isEqual;
        _regex = regex;
    }

    public string Name { get; }

    public string Value { get; }

    public bool IsRegex { get; }

    public bool IsEqual { get; }

    // The header's name for "header:Name", else null.
    public string? HeaderName => Name.StartsWith("header:", StringComparison.OrdinalIgnoreCase) ? Name["header:".Length..] : null;

    // Null and a problem naming the field when the matcher cannot be used.
    public static SilenceMatcher? Create(string? name, string? value, bool isRegex, bool isEqual, out string? problem)
    {
        problem = null;
        if (string.IsNullOrEmpty(name) || !IsKnownName(name))
        {
            problem = "matchers[].name must be subject, from, to, batch_key, group_key or header:Name";
            return null;
        }
        if (value is null || value.Length > MaxValueLength)
        {
            problem = $"matchers[].value must be a string of at most {MaxValueLength} characters";
            return null;
        }
        Regex? regex = null;
        if (isRegex)
        {
            try
            {
                // Alertmanager anchors matcher regexes at both ends.
                regex = new Regex("^(?:" + value + ")$", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
            }
            catch (ArgumentException e)
            {
                problem = $"matchers[].value is not a valid regular expression: {e.Message}";
                return null;
            }
        }
        return new SilenceMatcher(name, value, isRegex, isEqual, regex);
    }

    private static bool IsKnownName(string name) => name switch
    {
        "subject" or "from" or "to" or "batch_key" or "group_key" => true,
        _ => name.StartsWith("header:", StringComparison.OrdinalIgnoreCase) && name.Length > "header:".Length
            && name.AsSpan("header:".Length).IndexOfAny(" :\t\r\n") < 0,
    };

    public bool Matches(in SilenceFields fields)
    {
        switch (Name)
        {
            case "subject": return Test(fields.Subject);
            case "from": return Test(fields.From);
            case "batch_key": return Test(fields.BatchKey);
            case "group_key": return Test(fields.GroupKey);
            case "to":
                // Any recipient matches (a negative matcher: no recipient matches).
                var any = false;
                foreach (var to in fields.To)
                {
                    any |= Is(to);
                }
                return any == IsEqual;
            default:
                return Test(fields.Header?.Invoke(HeaderName ?? "") ?? "");
        }
    }

    private bool Test(string value) => Is(value) == IsEqual;

    private bool Is(string value)
    {
        if (_regex is null)
        {
            return string.Equals(value, Value, StringComparison.Ordinal);
        }
        try
        {
            return _regex.IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
