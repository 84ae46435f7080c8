using System.Text;
using System.Text.RegularExpressions;

namespace Failmail.Outputs;

// Secrets in the transport map need not be written into it: ${NAME} is replaced by the
// environment variable, and a value "file:/path" by the first line of that file.
internal static partial class SecretText
{
    public static bool TryExpandEnvironment(string text, Func<string, string?> environment, out string expanded, out string error)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? missing = null;
        expanded = EnvironmentReference().Replace(text, m =>
        {
            var value = environment(m.Groups[1].Value);
            if (value is null)
            {
                missing ??= m.Groups[1].Value;
                return "";
            }
            return value;
        });
        error = missing is null ? "" : $"environment variable {missing} is not set";
        return missing is null;
    }

    // "file:/path" → the file's first line (trimmed); any other value as it is.
    public static bool TryReadFileValue(string value, out string result, out string error)
    {
        result = value;
        error = "";
        if (!value.StartsWith("file:", StringComparison.Ordinal))
        {
            return true;
        }
        var path = value["file:".Length..];
        try
        {
            using var reader = new StreamReader(path, Encoding.UTF8);
            result = (reader.ReadLine() ?? "").Trim();
            if (result.Length == 0)
            {
                error = $"{path} is empty";
                return false;
            }
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            error = $"cannot read {path}: {e.Message}";
            return false;
        }
    }

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex EnvironmentReference();
}
