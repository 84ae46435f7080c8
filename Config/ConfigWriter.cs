using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Failmail.Config;

// --write-config (../shared/failmail-spec.md §1.5): one `key = value` line per setting in
// failmail's order, an empty value still followed by "= " as failmail wrote it. Mode 0600,
// unlike failmail's 0666 minus umask: the file may hold credentials and relay_password.
internal static class ConfigWriter
{
    public static bool TryRender(IReadOnlyList<Setting> settings, FailmailOptions options,
        [NotNullWhen(true)] out string? text, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var result = new StringBuilder();
        foreach (var setting in settings)
        {
            var value = setting.Format(options);
            // The file has no quoting: such a value would not read back as it is.
            if (value.AsSpan().IndexOfAny('\r', '\n') >= 0 || value.Trim(' ', '\t').Length != value.Length)
            {
                text = null;
                error = $"the value of {setting.Key} has a line break or surrounding whitespace, which a config file cannot hold";
                return false;
            }
            result.Append(setting.Key).Append(" = ").Append(value).Append('\n');
        }
        text = result.ToString();
        error = null;
        return true;
    }

    // Writes in place rather than through a temporary file and a rename, so that a symlink or
    // a device such as /dev/stdout is written to, not replaced. An existing regular file is
    // narrowed to 0600 before anything is written into it; a new one is created 0600.
    public static void Write(string path, string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var fileOptions = new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            Share = FileShare.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var stream = new FileStream(path, fileOptions);
        // Pipes and terminals cannot seek; regular files can, and only they get a mode and fsync.
        var regular = stream.CanSeek;
        if (regular && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(stream.SafeFileHandle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        stream.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));
        stream.Flush(flushToDisk: regular);
    }
}
