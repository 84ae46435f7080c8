using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Failmail.Config;

// --write-config (../shared/failmail-spec.md §1.5): one `key = value` line per setting in
// failmail's order, an empty value still followed by "= " as failmail wrote it. A new file
// is created 0600, not failmail's 0666 minus umask: it may hold credentials and relay_password.
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
    // a device such as /dev/stdout is written to, not replaced. A new file is created 0600; an
    // existing one keeps the mode its owner gave it, as with a shell redirection (we cannot
    // tell a regular file from a device before writing, and must not chmod /dev/null).
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
        stream.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));
        // Pipes and terminals cannot seek and have nothing to fsync.
        stream.Flush(flushToDisk: stream.CanSeek);
    }
}
