namespace Failmail.Config;

// "did you mean --relay-addr?" for a flag that is not defined: the known name closest by
// edit distance (Levenshtein, with a swap of two neighbours counted once, as in a typo).
// A name too far from every flag gets no suggestion: pointing --bogus at --poll helps nobody.
internal static class FlagSuggestion
{
    public static string? Closest(string name, IEnumerable<string> known)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(known);
        // Typos are a few edits; a half-remembered name (--relay-host, --bind-address) is
        // more, so the bound grows with the length of what was typed.
        var limit = Math.Max(2, name.Length / 2);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known.Order(StringComparer.Ordinal))
        {
            var distance = Distance(name, candidate);
            // A flag the name starts or ends (--fail for --fail-dir) is as good as a typo.
            if (candidate.StartsWith(name, StringComparison.Ordinal) && name.Length >= 3)
            {
                distance = Math.Min(distance, 1);
            }
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return bestDistance <= limit ? best : null;
    }

    // Optimal string alignment distance: insert, delete, substitute, swap neighbours.
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var value = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    value = Math.Min(value, d[i - 2, j - 2] + 1);
                }
                d[i, j] = value;
            }
        }
        return d[a.Length, b.Length];
    }
}
