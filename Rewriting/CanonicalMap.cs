namespace Failmail.Rewriting;

// --sender-canonical / --recipient-canonical: Postfix canonical(5) tables, parsed once.
//   user@domain   replacement     exact address
//   user          replacement     user in a local domain (--qualify-domain) or unqualified
//   @domain       replacement     every address in that domain
// Lookups go in that order; the first hit wins and is applied once (not recursively). A
// replacement "@other" keeps the local part and swaps the domain. --*-canonical-static
// catches every address the table did not map (Postfix's static: map).
internal sealed class CanonicalMap
{
    private readonly Dictionary<string, string> _entries;
    private readonly string _static;

    private CanonicalMap(Dictionary<string, string> entries, string staticAddress)
    {
        _entries = entries;
        _static = staticAddress;
    }

    public static CanonicalMap Empty { get; } = new(new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase), "");

    public bool IsEmpty => _entries.Count == 0 && _static.Length == 0;

    public static CanonicalMap Load(string path, string staticAddress)
    {
        var lines = path.Length == 0 ? [] : MapFileReader.ReadLogicalLines(path);
        return Parse(path, lines, staticAddress);
    }

    public static CanonicalMap Parse(string path, IReadOnlyList<(int Line, string Text)> lines, string staticAddress)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(staticAddress);
        var entries = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (line, text) in lines)
        {
            var fields = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 2)
            {
                throw new FormatException($"{path}:{line}: expected \"pattern replacement\" (two fields, got {fields.Length})");
            }
            var (pattern, replacement) = (fields[0], fields[1]);
            if (pattern == "@" || pattern.EndsWith('@') || replacement == "@" || replacement.EndsWith('@'))
            {
                throw new FormatException($"{path}:{line}: bad address in \"{text}\"");
            }
            if (!entries.TryAdd(pattern, replacement))
            {
                throw new FormatException($"{path}:{line}: duplicate pattern \"{pattern}\"");
            }
        }
        return new CanonicalMap(entries, staticAddress.Trim());
    }

    // The canonical form of address, or address itself. The null sender is never mapped.
    public string Map(string address, Func<string, bool> isLocal)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(isLocal);
        if (address.Length == 0 || IsEmpty)
        {
            return address;
        }
        if (_entries.TryGetValue(address, out var exact)
            || (isLocal(address) && _entries.TryGetValue(MailAddress.LocalPart(address), out exact))
            || (MailAddress.IsQualified(address) && _entries.TryGetValue("@" + MailAddress.Domain(address), out exact)))
        {
            return Apply(address, exact);
        }
        return _static.Length > 0 ? Apply(address, _static) : address;
    }

    private static string Apply(string address, string replacement) =>
        replacement.StartsWith('@') ? MailAddress.LocalPart(address) + replacement : replacement;
}
