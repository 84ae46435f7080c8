using System.CommandLine;
using Failmail.Sendmail;
using Failmail.Smtp;

namespace Failmail.Cli;

// `failmail [flags] sendmail [sendmail options] [recipients...]`, and the same when the binary
// is run through a link named "sendmail" (then every argument is a sendmail argument, and
// the settings come from $FAILMAIL_CONFIG or /etc/failmail.conf when it exists). failmail's
// own flags (--bind-addr, --config, --qualify-domain, --spool-dir, ...) go before the word
// "sendmail"; everything after it is read with sendmail's syntax by SendmailArguments.
internal sealed class SendmailCommand : Command
{
    public const string CommandName = "sendmail";
    // Through a link named sendmail System.CommandLine names the root command "sendmail" too,
    // and two commands may not share a name: the subcommand is then registered as this.
    public const string LinkedName = "as-sendmail";

    // The root command's name is RootCommand.ExecutableName (under native AOT the link's name).
    public static string RegisteredName => RootCommand.ExecutableName == CommandName ? LinkedName : CommandName;
    public const string ConfigVariable = "FAILMAIL_CONFIG";
    public const string SystemConfig = "/etc/failmail.conf";

    private readonly FailmailCommand _root;
    private readonly Argument<string[]> _arguments = new("arguments")
    {
        Description = "sendmail options and recipients (-t, -i, -f addr, -F name, -- rcpt...)",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public SendmailCommand(FailmailCommand root)
        : base(RegisteredName, "read one message on stdin and submit it to the local failmail, like sendmail(8)")
    {
        ArgumentNullException.ThrowIfNull(root);
        _root = root;
        Arguments.Add(_arguments);
        SetAction(RunAsync);
    }

    // $FAILMAIL_CONFIG, else /etc/failmail.conf when it exists, else null.
    public static string? DefaultConfig(Func<string, string?> getEnvironment, Func<string, bool> exists)
    {
        ArgumentNullException.ThrowIfNull(getEnvironment);
        ArgumentNullException.ThrowIfNull(exists);
        var config = getEnvironment(ConfigVariable);
        if (!string.IsNullOrEmpty(config))
        {
            return config;
        }
        return exists(SystemConfig) ? SystemConfig : null;
    }

    // Program entry: a binary invoked as "sendmail" takes its whole command line as sendmail's.
    public static IReadOnlyList<string> RouteInvokedName(IReadOnlyList<string> args, string? invokedAs)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (!string.Equals(Path.GetFileName(invokedAs), CommandName, StringComparison.Ordinal))
        {
            return args;
        }
        var routed = new List<string>();
        var config = DefaultConfig(Environment.GetEnvironmentVariable, File.Exists);
        if (!string.IsNullOrEmpty(config))
        {
            routed.Add("--config=" + config);
        }
        routed.Add(RegisteredName);
        routed.AddRange(args);
        return routed;
    }

    // The name the program was started as. Native AOT keeps a symlink's name in
    // GetCommandLineArgs()[0]; under the JIT apphost that is the .dll, so /proc/self/cmdline
    // (the kernel's argv[0]) is asked as well.
    public static string InvokedName()
    {
        var first = Environment.GetCommandLineArgs().FirstOrDefault() ?? "";
        if (Path.GetFileName(first) == CommandName || !OperatingSystem.IsLinux())
        {
            return first;
        }
        try
        {
            var cmdline = File.ReadAllBytes("/proc/self/cmdline");
            var end = Array.IndexOf(cmdline, (byte)0);
            return System.Text.Encoding.UTF8.GetString(cmdline, 0, end < 0 ? cmdline.Length : end);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return first;
        }
    }

    // After GoFlagSyntax: puts "--" right after the subcommand name, so System.CommandLine
    // hands every sendmail argument over verbatim (no -h/--help/option matching on them).
    // GoFlagSyntax emits flags as single "--name=value" tokens or "--name" "" pairs, so the
    // first token equal to the subcommand's name is the subcommand.
    public static IReadOnlyList<string> ProtectArguments(IReadOnlyList<string> normalized)
    {
        ArgumentNullException.ThrowIfNull(normalized);
        for (var i = 0; i < normalized.Count; i++)
        {
            if (normalized[i] == "--")
            {
                return normalized;
            }
            if (normalized[i] is CommandName or LinkedName)
            {
                return [.. normalized.Take(i + 1), "--", .. normalized.Skip(i + 1)];
            }
        }
        return normalized;
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var errorWriter = parseResult.InvocationConfiguration.Error;
        var arguments = parseResult.GetValue(_arguments) ?? [];
        if (SendmailUsage.IsRequested(arguments))
        {
            // Before the settings: help needs none, and stdout because it was asked for.
            await parseResult.InvocationConfiguration.Output.WriteLineAsync(SendmailUsage.Text).ConfigureAwait(false);
            return SysExits.Ok;
        }
        // As through the link: without --config, $FAILMAIL_CONFIG or /etc/failmail.conf, so
        // the client finds the daemon's --bind-addr and spool_dir from any directory.
        if (!_root.TryPrepare(parseResult, out var options, out var error, defaultConfig: DefaultConfig(Environment.GetEnvironmentVariable, File.Exists)))
        {
            await errorWriter.WriteLineAsync($"sendmail: {error}").ConfigureAwait(false);
            return SysExits.Config;
        }
        try
        {
            // The daemon's --credentials, which the client authenticates with: the daemon's rule.
            _ = SmtpCredentials.Parse(options.Credentials);
        }
        catch (ArgumentException e)
        {
            await errorWriter.WriteLineAsync($"sendmail: {e.Message}").ConfigureAwait(false);
            return SysExits.Config;
        }
        using var stdin = Console.OpenStandardInput();
        return await SendmailClient.RunAsync(options, arguments, stdin, errorWriter, cancellationToken).ConfigureAwait(false);
    }
}
