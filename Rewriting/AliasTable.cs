namespace Failmail.Rewriting;

// --aliases: a file in /etc/aliases format (aliases(5)), parsed once at start-up.
//   name: target, target2      targets are local names or full addresses, comma separated
//   # comment                  whole-line comments; a line starting with whitespace continues
//   default: ops               catches every local name that has no entry of its own
// Names are local parts, matched case-insensitively. Expansion is recursive; a name met
// again on its own expansion path is not expanded again but delivered as it is (the
// classic `root: root, ops@example.com` keeps root). Pipes, files and :include: cannot be
// delivered by a relay: they are start-up errors naming the line.
internal sealed class AliasTable
{
    public const string DefaultName = "default";
    // sendmail's MaxAliasRecursion; anything deeper is a configuration mistake, not mail.
    private const int MaxDepth = 10;

    private readonly Dictionary<string, IReadOnlyList<string>> _entries;

    private AliasTable(Dictionary<string, IReadOnlyList<string>> entries)
    {
        _entries = entries;
    }

    public static AliasTable Empty { get; } = new(new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase));

    public int Count => _entries.Count;

    public static AliasTable Load(string path) => Parse(path, MapFileReader.ReadLogicalLines(path));

    public static AliasTable Parse(string path, IReadOnlyList<(int Line, string Text)> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var entries = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        var firstLine = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var (line, text) in lines)
        {
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                throw new FormatException($"{path}:{line}: expected \"name: target, ...\"");
            }
            var name = text[..colon].Trim();
            if (name.Length == 0 || name.Any(char.IsWhiteSpace) || name.Contains('@', StringComparison.Ordinal))
            {
                throw new FormatException($"{path}:{line}: bad alias name \"{name}\" (a local name without '@' or spaces)");
            }
            if (firstLine.TryGetValue(name, out var earlier))
            {
                throw new FormatException($"{path}:{line}: duplicate alias \"{name}\" (first defined on line {earlier})");
            }
            var list = text[(colon + 1)..].Trim();
            if (list.Length == 0)
            {
                throw new FormatException($"{path}:{line}: alias \"{name}\" has no targets");
            }
            var targets = new List<string>();
            foreach (var raw in SplitTargets(list))
            {
                var target = raw.Trim();
                if (target.StartsWith('<') && target.EndsWith('>'))
                {
                    target = target[1..^1].Trim();
                }
                if (target.Length == 0)
                {
                    throw new FormatException($"{path}:{line}: empty target in alias \"{name}\"");
                }
                if (target.StartsWith(":include:", StringComparison.OrdinalIgnoreCase))
                {
                    throw new FormatException($"{path}:{line}: :include: is not supported (list the addresses in the entry)");
                }
                if (target[0] is '|' or '/' or '"')
                {
                    throw new FormatException($"{path}:{line}: alias \"{name}\": pipe and file targets are not supported (failmail only relays mail)");
                }
                if (target.Any(char.IsWhiteSpace))
                {
                    throw new FormatException($"{path}:{line}: alias \"{name}\": bad target \"{target}\"");
                }
                targets.Add(target);
            }
            entries[name] = targets;
            firstLine[name] = line;
        }
        return new AliasTable(entries);
    }

    // Expands one local name (no domain). Results are local names (to be qualified) or full
    // addresses, in order of appearance, without duplicates. A name without an entry (and no
    // default) expands to itself.
    public IReadOnlyList<string> Expand(string localName, Func<string, bool> isLocal)
    {
        ArgumentNullException.ThrowIfNull(localName);
        ArgumentNullException.ThrowIfNull(isLocal);
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        Expand(localName, isLocal, new List<string>(), result, seen);
        return result;
    }

    private void Expand(string name, Func<string, bool> isLocal, List<string> path, List<string> result, HashSet<string> seen)
    {
        var key = _entries.ContainsKey(name) ? name : DefaultName;
        if (path.Count >= MaxDepth || path.Contains(key, StringComparer.OrdinalIgnoreCase) || !_entries.TryGetValue(key, out var targets))
        {
            // No entry, a loop back onto the path, or too deep: this name is a final recipient.
            if (seen.Add(name))
            {
                result.Add(name);
            }
            return;
        }
        path.Add(key);
        foreach (var target in targets)
        {
            if (isLocal(target))
            {
                Expand(MailAddress.LocalPart(target), isLocal, path, result, seen);
            }
            else if (seen.Add(target))
            {
                result.Add(target);
            }
        }
        path.RemoveAt(path.Count - 1);
    }

    // Commas separate targets, except inside double quotes.
    private static IEnumerable<string> SplitTargets(string text)
    {
        var start = 0;
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '"')
            {
                quoted = !quoted;
            }
            else if (text[i] == ',' && !quoted)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }
        yield return text[start..];
    }
}
