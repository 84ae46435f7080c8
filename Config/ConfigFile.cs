using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Failmail.Config;

// failmail's config file (../shared/failmail-spec.md §1.4): `key = value` lines, whole-line
// `#` comments and blank lines. Unlike failmail, a line that is none of these is an error
// with its line number instead of silently ending the parse, and CRLF line ends, a UTF-8
// BOM and a last line without a newline are fine. Values are literal and may be empty.
// Which keys exist and what their values mean is the caller's business (SettingsMerger).
internal sealed class ConfigFile
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private ConfigFile(string path, IReadOnlyList<ConfigEntry> entries)
    {
        Path = path;
        Entries = entries;
    }

    public string Path { get; }
    public IReadOnlyList<ConfigEntry> Entries { get; }

    // Reads and parses the file. The error names neither the file nor --config: the caller
    // prefixes both (`failmail: --config x.conf: line 3: ...`).
    public static bool TryLoad(string path, [NotNullWhen(true)] out ConfigFile? file, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(path);
        file = null;
        string text;
        if (Directory.Exists(path))
        {
            error = "is a directory";
            return false;
        }
        try
        {
            // Detects and drops a UTF-8 BOM; invalid UTF-8 throws rather than turning into U+FFFD.
            text = File.ReadAllText(path, StrictUtf8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DecoderFallbackException or NotSupportedException or ArgumentException)
        {
            error = DescribeReadError(e);
            return false;
        }
        return TryParse(text, path, out file, out error);
    }

    public static bool TryParse(string text, string path, [NotNullWhen(true)] out ConfigFile? file, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        file = null;
        error = null;
        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text[1..];
        }

        var entries = new List<ConfigEntry>();
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.EndsWith('\r') ? rawLine[..^1] : rawLine;
            var trimmed = line.Trim(' ', '\t');
            if (trimmed.Length == 0 || trimmed[0] == '#')
            {
                continue;
            }
            if (!TryParseSetting(trimmed, out var key, out var value, out var problem))
            {
                error = $"line {lineNumber}: {problem}";
                return false;
            }
            entries.Add(new ConfigEntry(lineNumber, key, NormalizeKey(key), value));
        }
        file = new ConfigFile(path, entries);
        return true;
    }

    // Go's field-name rule, as failmail applied it to keys: '_' becomes '-', a hyphen goes in
    // at each lower→upper change, then lowercase. So max_wait, MaxWait, maxWait and MAX_WAIT
    // all name --max-wait. Hyphenated keys (max-wait), which failmail rejected, are accepted.
    public static string NormalizeKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var result = new StringBuilder(key.Length + 4);
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (c == '_')
            {
                c = '-';
            }
            else if (char.IsAsciiLetterUpper(c) && i > 0 && char.IsAsciiLetterLower(key[i - 1]))
            {
                result.Append('-');
            }
            result.Append(char.ToLowerInvariant(c));
        }
        return result.ToString();
    }

    private static bool TryParseSetting(string line, out string key, out string value, [NotNullWhen(false)] out string? problem)
    {
        key = "";
        value = "";
        problem = null;
        if (line.StartsWith("> ", StringComparison.Ordinal) || line == ">")
        {
            problem = "continuation lines (\"> ...\") are not supported: a value is the rest of its own line";
            return false;
        }
        var length = 0;
        while (length < line.Length && (char.IsAsciiLetterOrDigit(line[length]) || line[length] is '_' or '-'))
        {
            length++;
        }
        var rest = line.AsSpan(length).TrimStart(" \t");
        // The line is not echoed: a malformed relay_password line would print the password.
        if (length == 0)
        {
            problem = "expected \"key = value\"";
            return false;
        }
        if (rest.IsEmpty || rest[0] != '=')
        {
            problem = $"expected \"key = value\": \"{line[..length]}\" is not followed by \"=\"";
            return false;
        }
        key = line[..length];
        value = rest[1..].Trim(" \t").ToString();
        return true;
    }

    private static string DescribeReadError(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "no such file or directory",
        UnauthorizedAccessException => "permission denied",
        DecoderFallbackException => "not valid UTF-8",
        _ => e.Message,
    };
}
