using System.CommandLine;
using System.Text;
using Failmail.GoSyntax;

namespace Failmail.Config;

// One failmail setting: its flag (--max-wait), its config-file key (max_wait), how its text
// is parsed (the same for flags and files) and printed (--write-config, --help), and which
// FailmailOptions property it fills. The list of them is the single source for all three.
internal abstract class Setting
{
    protected Setting(string name, string help)
    {
        Name = name;
        Help = help;
    }

    // The flag name without hyphens in front: "max-wait".
    public string Name { get; }

    // The key --write-config writes: "max_wait".
    public string Key => Name.Replace('-', '_');

    public string Help { get; }

    public abstract Option Option { get; }

    // Bool flags take no separate value on the command line (-ssl, -ssl=false), as in Go.
    public abstract bool IsBool { get; }

    // The value as --write-config prints it (Go's %v: 5m0s, true, 10, raw strings).
    public abstract string Format(FailmailOptions options);

    // Applies a config-file value. The error names neither file nor setting.
    public abstract bool TryApply(FailmailOptions options, string text, out FailmailOptions result, out string error);

    // Applies the flag if it was given on this command line; otherwise returns options unchanged.
    public abstract FailmailOptions ApplyFlag(FailmailOptions options, ParseResult parseResult);

    public static Setting<string> String(string name, string help, FailmailOptions defaults,
        Func<FailmailOptions, string> get, Func<FailmailOptions, string, FailmailOptions> set) =>
        new(name, help, "string", text => (text, null), value => value, Quote, defaults, get, set);

    public static Setting<bool> Bool(string name, string help, FailmailOptions defaults,
        Func<FailmailOptions, bool> get, Func<FailmailOptions, bool, FailmailOptions> set) =>
        new(name, help, null, ParseBool, GoValues.FormatBool, GoValues.FormatBool, defaults, get, set);

    public static Setting<int> Int32(string name, string help, FailmailOptions defaults,
        Func<FailmailOptions, int> get, Func<FailmailOptions, int, FailmailOptions> set) =>
        new(name, help, "int", ParseInt32, value => GoValues.FormatInt(value), value => GoValues.FormatInt(value), defaults, get, set);

    public static Setting<long> Int64(string name, string help, FailmailOptions defaults,
        Func<FailmailOptions, long> get, Func<FailmailOptions, long, FailmailOptions> set) =>
        new(name, help, "int", ParseInt64, GoValues.FormatInt, GoValues.FormatInt, defaults, get, set);

    // Bytes, plainly or with a k or M suffix (1024-based): 2M, 512k, 1000000. --write-config
    // prints the shortest exact form, which reads back to the same number.
    public static Setting<long> ByteSize(string name, string help, FailmailOptions defaults,
        Func<FailmailOptions, long> get, Func<FailmailOptions, long, FailmailOptions> set) =>
        new(name, help, "size", ParseByteSize, ByteSizes.Format, ByteSizes.Format, defaults, get, set);

    public static Setting<TimeSpan> Duration(string name, string help, FailmailOptions defaults,
        Func<FailmailOptions, TimeSpan> get, Func<FailmailOptions, TimeSpan, FailmailOptions> set) =>
        new(name, help, "duration", ParseDuration, GoDuration.Format, GoDuration.Format, defaults, get, set);

    private static (bool, string?) ParseBool(string text) =>
        GoValues.TryParseBool(text, out var value)
            ? (value, null)
            : (false, GoValues.InvalidBool(text));

    private static (int, string?) ParseInt32(string text) =>
        GoValues.TryParseInt32(text, out var value) ? (value, null) : (0, $"invalid integer \"{text}\"");

    private static (long, string?) ParseInt64(string text) =>
        GoValues.TryParseInt64(text, out var value) ? (value, null) : (0, $"invalid integer \"{text}\"");

    private static (long, string?) ParseByteSize(string text) =>
        ByteSizes.TryParse(text, out var value) ? (value, null) : (0, $"invalid size \"{text}\" (use bytes or a k or M suffix, such as 2M)");

    private static (TimeSpan, string?) ParseDuration(string text) =>
        GoDuration.TryParse(text, out var value)
            ? (value, null)
            : (TimeSpan.Zero, $"invalid duration \"{text}\" (use Go syntax such as 30s, 5m0s)");

    // Go's %q for the --help defaults, enough for our values: backslash and quote escaped.
    private static string Quote(string value)
    {
        var result = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            result.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ => c.ToString(),
            });
        }
        return result.Append('"').ToString();
    }
}
