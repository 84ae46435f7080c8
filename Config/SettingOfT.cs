using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;

namespace Failmail.Config;

internal sealed class Setting<T> : Setting
{
    private readonly Func<string, (T Value, string? Error)> _parse;
    private readonly Func<T, string> _format;
    private readonly Func<FailmailOptions, T> _get;
    private readonly Func<FailmailOptions, T, FailmailOptions> _set;

    // typeName is the word --help shows after the flag (Go's "string", "int", "duration"),
    // null for bools. formatForHelp differs from format only for strings, which are quoted.
    public Setting(string name, string help, string? typeName,
        Func<string, (T Value, string? Error)> parse, Func<T, string> format, Func<T, string> formatForHelp,
        FailmailOptions defaults, Func<FailmailOptions, T> get, Func<FailmailOptions, T, FailmailOptions> set)
        : base(name, help)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        ArgumentNullException.ThrowIfNull(get);
        _parse = parse;
        _format = format;
        _get = get;
        _set = set;
        // No DefaultValueFactory: the defaults live in FailmailOptions, an absent flag must
        // leave the config file's value alone, and System.CommandLine would print a TimeSpan
        // default as 00:05:00. --help shows the default in Go syntax in the description.
        TypedOption = new Option<T>("--" + name)
        {
            Description = $"{help} (default {formatForHelp(get(defaults))})",
            HelpName = typeName,
            CustomParser = ParseArgument,
        };
    }

    public Option<T> TypedOption { get; }

    public override Option Option => TypedOption;

    public override bool IsBool => typeof(T) == typeof(bool);

    public override string Format(FailmailOptions options) => _format(_get(options));

    public override bool TryApply(FailmailOptions options, string text, out FailmailOptions result, out string error)
    {
        var (value, problem) = _parse(text);
        if (problem is not null)
        {
            result = options;
            error = problem;
            return false;
        }
        result = _set(options, value);
        error = "";
        return true;
    }

    public override FailmailOptions ApplyFlag(FailmailOptions options, ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        // Implicit: a result System.CommandLine made up for a flag that was not given (it
        // does so for bools).
        if (parseResult.GetResult(TypedOption) is not { Implicit: false } result)
        {
            return options;
        }
        var value = result.GetValueOrDefault<T>();
        // ParseArgument returns a value for every token it accepts; a rejected one is a parse
        // error, and the caller never gets here with parse errors.
        Debug.Assert(value is not null);
        return _set(options, value);
    }

    private T ParseArgument(ArgumentResult argument)
    {
        if (argument.Tokens.Count == 0)
        {
            // Only a bool flag can be bare (-ssl): it means true, as in Go. Other flags have
            // arity one, so System.CommandLine reports the missing value itself.
            if (typeof(T) == typeof(bool))
            {
                return (T)(object)true;
            }
            argument.AddError($"--{Name}: needs a value");
            return default!;
        }
        var (value, problem) = _parse(argument.Tokens[^1].Value);
        if (problem is not null)
        {
            argument.AddError($"--{Name}: {problem}");
        }
        return value;
    }
}
