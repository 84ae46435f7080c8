namespace Failmail.Tests.EndToEnd;

// Where the end-to-end tests find the AOT binary and scratch space.
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    // test.sh exports FAILMAIL_BIN; a developer run falls back to ./build.sh's output.
    public static string FailmailBinary =>
        Environment.GetEnvironmentVariable("FAILMAIL_BIN") is { Length: > 0 } bin
            ? bin
            : Path.Combine(RepoRoot, "dist", "failmail");

    public static string SmtpSink => Which("smtp-sink");

    public static string SmtpSource => Which("smtp-source");

    public static string NewTempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "failmail-e2e-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string Which(string tool)
    {
        foreach (var dir in new[] { "/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin" })
        {
            var path = Path.Combine(dir, tool);
            if (File.Exists(path))
            {
                return path;
            }
        }
        throw new FileNotFoundException($"{tool} is not installed; ./test.sh installs postfix for it");
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        for (var i = 0; i < 10 && dir is not null; i++, dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "failmail.csproj")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("failmail.csproj not found above " + AppContext.BaseDirectory);
    }
}
