using System.CommandLine;
using System.CommandLine.Help;
using System.Diagnostics.CodeAnalysis;
using Failmail.Batching;
using Failmail.Config;
using Failmail.Sendmail;

namespace Failmail.Cli;

// The command line (../shared/failmail-spec.md §1): one flag per FailmailOptions setting
// under failmail's names (Config/FailmailSettings), Go flag syntax, a config file,
// --write-config and --version. Entry point: InvokeAsync(args). The subcommands (sendmail,
// preview, resend, check) are Command children: GoFlagSyntax stops at their name and hands the rest
// of the line to System.CommandLine, and the root flags and action stay as they are.
internal sealed class FailmailCommand : RootCommand
{
    // Go's flag package exits 2 on usage errors; we do the same for every start-up error.
    public const int UsageError = 2;

    private readonly FailmailSettings _settings = new();
    private readonly Func<FailmailOptions, CancellationToken, Task<int>> _run;
    private (ParseResult Result, FailmailOptions Options)? _prepared;

    public FailmailCommand()
        : this(FailmailHost.RunAsync)
    {
    }

    // run is what the action starts once the options are valid; tests pass their own.
    public FailmailCommand(Func<FailmailOptions, CancellationToken, Task<int>> run)
        : base("failmail: a batching SMTP proxy that summarises alert mail")
    {
        ArgumentNullException.ThrowIfNull(run);
        _run = run;

        Config = new Option<string>("--config") { Description = "read settings from this file (flags override it)", HelpName = "string" };
        WriteConfig = new Option<string>("--write-config") { Description = "write the effective settings to this file and exit", HelpName = "string" };

        // Our own --version replaces System.CommandLine's, which prints only the number.
        for (var i = Options.Count - 1; i >= 0; i--)
        {
            if (Options[i] is VersionOption)
            {
                Options.RemoveAt(i);
            }
        }
        // --help lists flags alphabetically, as Go's PrintDefaults does; the help flag stays last.
        var help = Options.OfType<HelpOption>().ToList();
        foreach (var option in help)
        {
            Options.Remove(option);
        }
        foreach (var option in _settings.All.Select(s => s.Option).Append(Config).Append(WriteConfig).OrderBy(o => o.Name, StringComparer.Ordinal))
        {
            Options.Add(option);
        }
        foreach (var option in help)
        {
            Options.Add(option);
        }
        // No [suggest] or other directives: a Go-style command line has no such syntax.
        Directives.Clear();

        SetAction(RunRootAsync);
        // --help lists them in this order.
        Subcommands.Add(new SendmailCommand(this));
        Subcommands.Add(new PreviewCommand(this));
        Subcommands.Add(new ResendCommand(this));
        Subcommands.Add(new CheckCommand(this));
        Subcommands.Add(new CtlCommand(this));
    }

    // Read by the action itself; the other settings are merged through Settings.
    public Option<bool> Version => _settings.Version;
    public Option<string> Config { get; }
    public Option<string> WriteConfig { get; }

    // In --write-config order.
    public IReadOnlyList<Setting> Settings => _settings.All;

    public static string VersionText => FailmailVersion.Text;

    public static Task<int> RunAsync(string[] args) =>
        new FailmailCommand().InvokeAsync(SendmailCommand.RouteInvokedName(args, SendmailCommand.InvokedName()));

    public async Task<int> InvokeAsync(IReadOnlyList<string> args, InvocationConfiguration? configuration = null,
        CancellationToken cancellationToken = default)
    {
        configuration ??= new InvocationConfiguration();
        if (!TryParse(args, out var parseResult, out var error))
        {
            await configuration.Error.WriteLineAsync($"failmail: {error}").ConfigureAwait(false);
            return UsageError;
        }

        // System.CommandLine's own SIGINT/SIGTERM handling blocks the signal thread until its
        // ProcessTerminationTimeout and then forces exit 130/143 (STYLE pitfall 10), which
        // starved Hosting.SignalHandler. The host owns signals instead: the first stop signal
        // drains and flushes within bounds it sets itself, and a second one exits at once.
        configuration.ProcessTerminationTimeout = null;
        return await parseResult.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }

    // Go flag syntax first, then System.CommandLine. error is one line without "failmail: ".
    public bool TryParse(IReadOnlyList<string> args, [NotNullWhen(true)] out ParseResult? parseResult,
        [NotNullWhen(false)] out string? error)
    {
        var flagIsBool = _settings.All.ToDictionary(s => s.Name, s => s.IsBool, StringComparer.Ordinal);
        flagIsBool["config"] = false;
        flagIsBool["write-config"] = false;
        var subcommands = Subcommands.SelectMany(c => c.Aliases.Append(c.Name)).ToHashSet(StringComparer.Ordinal);
        var configuration = new ParserConfiguration { EnablePosixBundling = false, ResponseFileTokenReplacer = null };

        parseResult = null;
        if (!GoFlagSyntax.TryNormalize(args, flagIsBool, FailmailSettings.Aliases, subcommands, out var normalized, out error))
        {
            return false;
        }
        var result = Parse(SendmailCommand.ProtectArguments(normalized), configuration);
        // --help wins over a bad value elsewhere on the line, as System.CommandLine's help does.
        if (result.Action is HelpAction || result.Errors.Count == 0)
        {
            parseResult = result;
            error = null;
            return true;
        }
        // One line, not Go's twice-printed message followed by the whole usage text.
        error = result.Errors[0].Message;
        return false;
    }

    // The merged options for a root-command parse result, or the config file's error.
    // configPath: a subcommand's own --config (`check --config FILE`), over the root's.
    // defaultConfig: the file to read when no --config was given (`failmail sendmail`).
    public bool TryPrepare(ParseResult parseResult, [NotNullWhen(true)] out FailmailOptions? options,
        [NotNullWhen(false)] out string? error, string? configPath = null, string? defaultConfig = null)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        if (_prepared is { } prepared && ReferenceEquals(prepared.Result, parseResult))
        {
            options = prepared.Options;
            error = null;
            return true;
        }
        configPath = string.IsNullOrEmpty(configPath) ? parseResult.GetValue(Config) ?? "" : configPath;
        if (configPath.Length == 0 && parseResult.GetResult(Config) is null && !string.IsNullOrEmpty(defaultConfig))
        {
            configPath = defaultConfig;
        }
        if (!SettingsMerger.TryMerge(_settings.All, parseResult, configPath, out options, out error))
        {
            return false;
        }
        _prepared = (parseResult, options);
        return true;
    }

    private async Task<int> RunRootAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = parseResult.InvocationConfiguration.Output;
        var errorWriter = parseResult.InvocationConfiguration.Error;
        if (!TryPrepare(parseResult, out var options, out var error))
        {
            await errorWriter.WriteLineAsync($"failmail: {error}").ConfigureAwait(false);
            return UsageError;
        }

        var writeConfig = parseResult.GetValue(WriteConfig);
        if (!string.IsNullOrEmpty(writeConfig))
        {
            return await WriteConfigAsync(writeConfig, options, errorWriter).ConfigureAwait(false);
        }
        if (parseResult.GetValue(Version))
        {
            // stdout, where version output belongs (failmail wrote it to stderr).
            await output.WriteLineAsync($"failmail {VersionText}").ConfigureAwait(false);
            return 0;
        }
        if (!await ReportInvalidAsync(options, errorWriter).ConfigureAwait(false))
        {
            return UsageError;
        }
        return await _run(options, cancellationToken).ConfigureAwait(false);
    }

    private async Task<int> WriteConfigAsync(string path, FailmailOptions options, TextWriter errorWriter)
    {
        if (!await ReportInvalidAsync(options, errorWriter).ConfigureAwait(false))
        {
            return UsageError;
        }
        if (!ConfigWriter.TryRender(_settings.All, options, out var text, out var error))
        {
            await errorWriter.WriteLineAsync($"failmail: --write-config {path}: {error}").ConfigureAwait(false);
            return UsageError;
        }
        try
        {
            ConfigWriter.Write(path, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var reason = e switch
            {
                DirectoryNotFoundException => "no such directory",
                UnauthorizedAccessException => "permission denied",
                _ => e.Message,
            };
            await errorWriter.WriteLineAsync($"failmail: --write-config {path}: {reason}").ConfigureAwait(false);
            return 1;
        }
        return 0;
    }

    private static async Task<bool> ReportInvalidAsync(FailmailOptions options, TextWriter errorWriter)
    {
        var errors = OptionsValidator.Validate(options);
        foreach (var error in errors)
        {
            await errorWriter.WriteLineAsync($"failmail: {error}").ConfigureAwait(false);
        }
        return errors.Count == 0;
    }
}
