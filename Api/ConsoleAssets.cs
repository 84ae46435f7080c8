using System.Reflection;

namespace Failmail.Api;

// The console's files, embedded in the binary (failmail.csproj: Api/Console/*), read once.
internal static class ConsoleAssets
{
    private static readonly Dictionary<string, (string Type, byte[] Bytes)> Files = Load();

    public static (string Type, byte[] Bytes)? Find(string name) => Files.TryGetValue(name, out var file) ? file : null;

    private static Dictionary<string, (string Type, byte[] Bytes)> Load()
    {
        var files = new Dictionary<string, (string, byte[])>(StringComparer.Ordinal);
        var assembly = typeof(ConsoleAssets).Assembly;
        foreach (var (name, type) in new[]
        {
            ("index.html", "text/html; charset=utf-8"),
            ("app.js", "text/javascript; charset=utf-8"),
            ("app.css", "text/css; charset=utf-8"),
        })
        {
            using var stream = assembly.GetManifestResourceStream("failmail.console." + name);
            if (stream is null)
            {
                continue;
            }
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name] = (type, copy.ToArray());
        }
        return files;
    }
}
