using System.Text.RegularExpressions;

namespace Failmail.Tests.Architecture;

// Which top-level source folder's namespace (Failmail.Smtp, ...) refers to which, read from
// the sources: a using directive, a qualified name (Failmail.Relay.X), or a name relative to
// the parent namespace (Relay.RelayService, which C# resolves inside any Failmail.* folder).
// Comments are skipped. The root namespace (Program, the host) is the composition root and
// is left out: it may see every folder.
internal static partial class FolderDependencies
{
    private static readonly string[] NotSource = ["tests", "bench", "dist", "docs", "examples", "obj", "bin"];

    // folder -> folder it uses -> files that use it
    public static Dictionary<string, Dictionary<string, SortedSet<string>>> Scan(string root)
    {
        var folders = Directory.GetDirectories(root)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => name.Length > 0 && char.IsUpper(name[0]) && !NotSource.Contains(name, StringComparer.OrdinalIgnoreCase))
            .Where(name => Directory.EnumerateFiles(Path.Combine(root, name), "*.cs", SearchOption.AllDirectories).Any())
            .ToList();
        var result = folders.ToDictionary(f => f, _ => new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
            {
                var source = Comment().Replace(File.ReadAllText(file), "");
                foreach (var other in folders.Where(o => o != folder))
                {
                    var name = Regex.Escape(other);
                    if (Regex.IsMatch(source, $@"using\s+(static\s+)?Failmail\.{name}\b|Failmail\.{name}\.|(?<![\w.]){name}\.[A-Z]"))
                    {
                        if (!result[folder].TryGetValue(other, out var files))
                        {
                            result[folder][other] = files = new SortedSet<string>(StringComparer.Ordinal);
                        }
                        files.Add(Path.GetRelativePath(root, file));
                    }
                }
            }
        }
        return result;
    }

    // Every pair of folders that use each other, with the files on each side.
    public static List<string> Cycles(Dictionary<string, Dictionary<string, SortedSet<string>>> uses)
    {
        var cycles = new List<string>();
        foreach (var (a, targets) in uses.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            foreach (var (b, files) in targets.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (string.CompareOrdinal(a, b) < 0 && uses.TryGetValue(b, out var back) && back.TryGetValue(a, out var backFiles))
                {
                    cycles.Add($"{a} <-> {b}: {string.Join(", ", files)} | {string.Join(", ", backFiles)}");
                }
            }
        }
        return cycles;
    }

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comment();
}
