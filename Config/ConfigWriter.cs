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

    // Writes a temporary file created 0600 beside the target, then renames it over the target,
    // so an existing file's wider mode does not carry over and no reader sees half a file.
    public static void Write(string path, string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var temporary = $"{full}.{Environment.ProcessId}.tmp";
        try
        {
            var fileOptions = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
            };
            if (!OperatingSystem.IsWindows())
            {
                fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using (var stream = new FileStream(temporary, fileOptions))
            {
                stream.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }
}
