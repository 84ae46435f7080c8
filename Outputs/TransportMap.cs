using System.Diagnostics.CodeAnalysis;

namespace Failmail.Outputs;

// --transport-map: `PATTERN TARGET[, TARGET...]` per line, `#` comments, as Postfix's
// transport(5). PATTERN is a full address, @domain or *; the most specific match wins (address,
// then domain, then *); a recipient no rule matches goes to smtp alone. Addresses and domains
// compare case-insensitively.
internal sealed class TransportMap
{
    private static readonly IReadOnlyList<OutputTarget> SmtpOnly = [new OutputTarget { Kind = OutputKind.Smtp, Text = "smtp" }];

    private readonly Dictionary<string, IReadOnlyList<OutputTarget>> _addresses;
    private readonly Dictionary<string, IReadOnlyList<OutputTarget>> _domains;
    private readonly IReadOnlyList<OutputTarget>? _wildcard;

    private TransportMap(Dictionary<string, IReadOnlyList<OutputTarget>> addresses, Dictionary<string, IReadOnlyList<OutputTarget>> domains,
        IReadOnlyList<OutputTarget>? wildcard)
    {
        _addresses = addresses;
        _domains = domains;
        _wildcard = wildcard;
    }

    public static TransportMap Empty { get; } = new(new(StringComparer.OrdinalIgnoreCase), new(StringComparer.OrdinalIgnoreCase), null);

    // Every output target of the map, once each (by Id), in the order first written.
    public IReadOnlyList<OutputTarget> Outputs =>
        [.. _addresses.Values.Concat(_domains.Values).Append(_wildcard ?? []).SelectMany(t => t).Where(t => t.Kind != OutputKind.Smtp).DistinctBy(t => t.Id)];

    public IReadOnlyList<OutputTarget> Lookup(string recipient)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        var address = recipient.Trim().Trim('<', '>');
        if (_addresses.TryGetValue(address, out var targets))
        {
            return targets;
        }
        var at = address.LastIndexOf('@');
        if (at >= 0 && _domains.TryGetValue(address[(at + 1)..], out targets))
        {
            return targets;
        }
        return _wildcard ?? SmtpOnly;
    }

    // For `failmail check`: every problem of the file, one line each ("FILE:LINE: ..."), and
    // the warnings (a file others may read); an empty list of problems means it loads.
    public static IReadOnlyList<string> Check(string path, Func<string, string?>? environment, out IReadOnlyList<string> warnings)
    {
        _ = TryLoad(path, environment ?? Environment.GetEnvironmentVariable, out _, out var problems, out warnings);
        return problems;
    }

    public static bool TryLoad(string path, Func<string, string?> environment, [NotNullWhen(true)] out TransportMap? map,
        out IReadOnlyList<string> problems, out IReadOnlyList<string> warnings)
    {
        ArgumentNullException.ThrowIfNull(path);
        map = null;
        warnings = [];
        string text;
        try
        {
            text = File.ReadAllText(path);
            warnings = ReadableByOthers(path) ? [$"{path}: readable by other users; it may hold secrets (chmod 600 or 640)"] : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems = [$"{path}: {e.Message}"];
            return false;
        }
        return TryParse(text, path, environment, out map, out problems);
    }

    public static bool TryParse(string text, string name, Func<string, string?> environment, [NotNullWhen(true)] out TransportMap? map,
        out IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(text);
        var found = new List<string>();
        var addresses = new Dictionary<string, IReadOnlyList<OutputTarget>>(StringComparer.OrdinalIgnoreCase);
        var domains = new Dictionary<string, IReadOnlyList<OutputTarget>>(StringComparer.OrdinalIgnoreCase);
        IReadOnlyList<OutputTarget>? wildcard = null;
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var hash = raw.IndexOf('#', StringComparison.Ordinal);
            var line = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (line.Length == 0)
            {
                continue;
            }
            var split = line.IndexOfAny([' ', '\t']);
            if (split < 0)
            {
                found.Add($"{name}:{lineNumber}: {OutputTargetParser.Redacted(line)}: needs PATTERN TARGET[, TARGET...]");
                continue;
            }
            var pattern = line[..split];
            var targets = new List<OutputTarget>();
            foreach (var part in line[split..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (OutputTargetParser.TryParse(part, environment, out var target, out var error))
                {
                    if (targets.All(t => t.Id != target.Id))
                    {
                        targets.Add(target);
                    }
                }
                else
                {
                    found.Add($"{name}:{lineNumber}: {error}");
                }
            }
            if (targets.Count == 0)
            {
                if (line[split..].Trim().Length == 0)
                {
                    found.Add($"{name}:{lineNumber}: {pattern}: no target");
                }
                continue;
            }
            Dictionary<string, IReadOnlyList<OutputTarget>>? table;
            string key;
            if (pattern == "*")
            {
                if (wildcard is not null)
                {
                    found.Add($"{name}:{lineNumber}: * is given twice");
                }
                wildcard = targets;
                continue;
            }
            if (pattern.StartsWith('@') && pattern.Length > 1 && !pattern[1..].Contains('@', StringComparison.Ordinal))
            {
                (table, key) = (domains, pattern[1..]);
            }
            else if (pattern.IndexOf('@', StringComparison.Ordinal) is var at && at > 0 && at < pattern.Length - 1 && pattern.Count(c => c == '@') == 1)
            {
                (table, key) = (addresses, pattern);
            }
            else
            {
                found.Add($"{name}:{lineNumber}: {pattern}: not a full address, @domain or *");
                continue;
            }
            if (!table.TryAdd(key, targets))
            {
                found.Add($"{name}:{lineNumber}: {pattern} is given twice");
            }
        }
        problems = found;
        map = found.Count == 0 ? new TransportMap(addresses, domains, wildcard) : null;
        return map is not null;
    }

    private static bool ReadableByOthers(string path) =>
        !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & UnixFileMode.OtherRead) != 0;
}
