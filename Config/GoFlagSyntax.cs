using System.Diagnostics.CodeAnalysis;

namespace Failmail.Config;

// Rewrites a command line written for Go's flag package (../shared/failmail-spec.md §1.2)
// into the one form System.CommandLine reads without surprises: `--name=value`.
//   -name / --name           one or two hyphens are the same flag
//   -name=v / -name v        for flags with a value; the next argument is the value even
//                            when it starts with '-'
//   -flag / -flag=false      for bools: bare means true; `-flag false` is not a value;
//                            Go's literals (1, t, T, TRUE, True, 0, f, ...) become true/false
//   repeated flags           the last occurrence wins
//   --                       ends the flags; the rest is passed on as it is
//   aliases                  another name for a flag (--relay for --relay-addr) becomes
//                            the flag's own name, so "last wins" treats them as one
// Parsing stops at the first argument that is not a flag: a subcommand name (its own
// arguments are System.CommandLine's business) or a stray argument, which is then an error.
// Doing this before System.CommandLine keeps one option per setting in --help instead of
// an alias per spelling, and gives Go's "last wins" where System.CommandLine would refuse.
internal static class GoFlagSyntax
{
    public static bool TryNormalize(IReadOnlyList<string> args, IReadOnlyDictionary<string, bool> flagIsBool,
        IReadOnlySet<string> subcommands, [NotNullWhen(true)] out IReadOnlyList<string>? normalized,
        [NotNullWhen(false)] out string? error) =>
        TryNormalize(args, flagIsBool, new Dictionary<string, string>(), subcommands, out normalized, out error);

    public static bool TryNormalize(IReadOnlyList<string> args, IReadOnlyDictionary<string, bool> flagIsBool,
        IReadOnlyDictionary<string, string> aliases, IReadOnlySet<string> subcommands,
        [NotNullWhen(true)] out IReadOnlyList<string>? normalized, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(aliases);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(flagIsBool);
        ArgumentNullException.ThrowIfNull(subcommands);
        normalized = null;
        var flags = new List<(string Name, string[] Tokens)>();
        var rest = new List<string>();

        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                rest.AddRange(args.Skip(i));
                break;
            }
            if (arg.Length < 2 || arg[0] != '-')
            {
                if (!subcommands.Contains(arg))
                {
                    error = $"unexpected argument \"{arg}\" (failmail takes only flags; see --help)";
                    return false;
                }
                rest.AddRange(args.Skip(i));
                break;
            }

            var body = arg.AsSpan(arg[1] == '-' ? 2 : 1);
            if (body.IsEmpty || body[0] == '-' || body[0] == '=')
            {
                error = $"bad flag syntax: {arg}";
                return false;
            }
            var equals = body.IndexOf('=');
            var name = (equals < 0 ? body : body[..equals]).ToString();
            var spelled = equals < 0 ? arg : arg[..(arg.Length - body.Length + equals)];
            string? value = equals < 0 ? null : body[(equals + 1)..].ToString();

            if (name is "h" or "help" or "?")
            {
                flags.Add(("help", ["--help"]));
                continue;
            }
            if (aliases.TryGetValue(name, out var canonical))
            {
                name = canonical;
            }
            if (!flagIsBool.TryGetValue(name, out var isBool))
            {
                // An alias close to the name points at its flag: --rellay suggests --relay-addr.
                var suggestion = FlagSuggestion.Closest(name, flagIsBool.Keys.Concat(aliases.Keys));
                if (suggestion is not null && aliases.TryGetValue(suggestion, out var aliased))
                {
                    suggestion = aliased;
                }
                error = suggestion is null
                    ? $"flag provided but not defined: {spelled}"
                    : $"flag provided but not defined: {spelled} (did you mean --{suggestion}?)";
                return false;
            }
            if (isBool)
            {
                // System.CommandLine leaves a bool's value unmatched unless bool.TryParse
                // reads it, whatever the option's parser, so Go's literals are settled here.
                if (value is null)
                {
                    value = "true";
                }
                else if (GoValues.TryParseBool(value, out var flag))
                {
                    value = GoValues.FormatBool(flag);
                }
                else
                {
                    error = $"--{name}: {GoValues.InvalidBool(value)}";
                    return false;
                }
            }
            else if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    error = $"flag needs an argument: {arg}";
                    return false;
                }
                value = args[++i];
            }
            // System.CommandLine drops the empty value of "--name=", but reads "--name" "".
            flags.Add((name, value.Length == 0 ? ["--" + name, ""] : [$"--{name}={value}"]));
        }

        var last = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < flags.Count; i++)
        {
            last[flags[i].Name] = i;
        }
        var result = new List<string>();
        for (var i = 0; i < flags.Count; i++)
        {
            if (last[flags[i].Name] == i)
            {
                result.AddRange(flags[i].Tokens);
            }
        }
        result.AddRange(rest);
        normalized = result;
        error = null;
        return true;
    }
}
