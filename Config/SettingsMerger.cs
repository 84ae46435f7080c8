using System.CommandLine;
using System.Diagnostics.CodeAnalysis;

namespace Failmail.Config;

// Precedence (../shared/failmail-spec.md §1.3): flag > config file > built-in default.
// Only flags actually given on the command line override the file, so a `ssl = true` in the
// file is turned off by --ssl=false and kept when --ssl is absent.
internal static class SettingsMerger
{
    // Keys a config file may hold that are not settings: failmail ignored them too.
    private static readonly HashSet<string> IgnoredKeys = ["config", "write-config"];

    public static bool TryMerge(IReadOnlyList<Setting> settings, ParseResult parseResult, string configPath,
        [NotNullWhen(true)] out FailmailOptions? options, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(parseResult);
        var merged = new FailmailOptions();
        options = null;
        if (!string.IsNullOrEmpty(configPath))
        {
            if (!ConfigFile.TryLoad(configPath, out var file, out var fileError)
                || !TryApplyFile(settings, merged, file, out merged, out fileError))
            {
                error = $"--config {configPath}: {fileError}";
                return false;
            }
        }
        foreach (var setting in settings)
        {
            merged = setting.ApplyFlag(merged, parseResult);
        }
        options = merged;
        error = null;
        return true;
    }

    public static bool TryApplyFile(IReadOnlyList<Setting> settings, FailmailOptions options, ConfigFile file,
        out FailmailOptions result, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(file);
        var byName = settings.ToDictionary(s => s.Name, StringComparer.Ordinal);
        result = options;
        foreach (var entry in file.Entries)
        {
            if (IgnoredKeys.Contains(entry.Name))
            {
                continue;
            }
            if (!byName.TryGetValue(entry.Name, out var setting))
            {
                error = $"line {entry.Line}: unknown setting \"{entry.Key}\"";
                return false;
            }
            if (!setting.TryApply(result, entry.Value, out result, out var problem))
            {
                error = $"line {entry.Line}: {entry.Key}: {problem}";
                return false;
            }
        }
        error = null;
        return true;
    }
}
