using System.CommandLine;
using System.CommandLine.Help;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Failmail.Batching;
using Failmail.Config;
using Failmail.Sendmail;

namespace Failmail;

// The command line (../shared/failmail-spec.md §1): one flag per FailmailOptions setting
// under failmail's names, Go flag syntax, a config file, --write-config and --version.
// Entry point: InvokeAsync(args). Subcommands (resend, sendmail, preview) are meant to be
// added as Command children with Subcommands.Add: GoFlagSyntax stops at their name and hands
// the rest of the line to System.CommandLine, and the root flags and action stay as they are.
internal sealed class FailmailCommand : RootCommand
{
    // Go's flag package exits 2 on usage errors; we do the same for every start-up error.
    public const int UsageError = 2;

    private readonly List<Setting> _settings = [];
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
        var d = new FailmailOptions();

        // failmail's --write-config order (§1.5, subject_prefix from the fork), then ours.
        BindAddr = Add(Setting.String("bind-addr", "local bind address", d, o => o.BindAddr, (o, v) => o with { BindAddr = v }));
        SocketFd = Add(Setting.Int32("socket-fd", "file descriptor of socket to listen on", d, o => o.SocketFd, (o, v) => o with { SocketFd = v }));
        Credentials = Add(Setting.String("credentials", "username:password for authenticating to failmail", d, o => o.Credentials, (o, v) => o with { Credentials = v }));
        TlsCert = Add(Setting.String("tls-cert", "PEM certificate file for TLS", d, o => o.TlsCert, (o, v) => o with { TlsCert = v }));
        TlsKey = Add(Setting.String("tls-key", "PEM key file for TLS", d, o => o.TlsKey, (o, v) => o with { TlsKey = v }));
        Ssl = Add(Setting.Bool("ssl", "enable TLS immediately (disables STARTTLS)", d, o => o.Ssl, (o, v) => o with { Ssl = v }));
        ShutdownTimeout = Add(Setting.Duration("shutdown-timeout", "wait this long for open connections to finish when shutting down or reloading", d, o => o.ShutdownTimeout, (o, v) => o with { ShutdownTimeout = v }));
        DebugReceiver = Add(Setting.Bool("debug-receiver", "log traffic sent to and from downstream connections", d, o => o.DebugReceiver, (o, v) => o with { DebugReceiver = v }));
        RewriteSrc = Add(Setting.String("rewrite-src", "pattern to match on recipients for address rewriting", d, o => o.RewriteSrc, (o, v) => o with { RewriteSrc = v }));
        RewriteDest = Add(Setting.String("rewrite-dest", "rewrite matching recipients to this address", d, o => o.RewriteDest, (o, v) => o with { RewriteDest = v }));
        AllowUnencryptedAuth = Add(Setting.Bool("allow-unencrypted-auth", "allow non-hashed authentication over unencrypted connections", d, o => o.AllowUnencryptedAuth, (o, v) => o with { AllowUnencryptedAuth = v }));
        MemoryStore = Add(Setting.Bool("memory-store", "store messages in memory instead of an on-disk maildir", d, o => o.MemoryStore, (o, v) => o with { MemoryStore = v }));
        MessageStore = Add(Setting.String("message-store", "use this directory as a maildir for holding received messages", d, o => o.MessageStore, (o, v) => o with { MessageStore = v }));
        From = Add(Setting.String("from", "from address", d, o => o.From, (o, v) => o with { From = v }));
        SubjectPrefix = Add(Setting.String("subject-prefix", "summary subject prefix", d, o => o.SubjectPrefix, (o, v) => o with { SubjectPrefix = v }));
        WaitPeriod = Add(Setting.Duration("wait-period", "wait this long for more batchable messages", d, o => o.WaitPeriod, (o, v) => o with { WaitPeriod = v }));
        MaxWait = Add(Setting.Duration("max-wait", "wait at most this long from first message to send summary", d, o => o.MaxWait, (o, v) => o with { MaxWait = v }));
        Poll = Add(Setting.Duration("poll", "check the store for new messages this frequently", d, o => o.Poll, (o, v) => o with { Poll = v }));
        BatchExpr = Add(Setting.String("batch-expr", "an expression used to determine how messages are batched into summary emails", d, o => o.BatchExpr, (o, v) => o with { BatchExpr = v }));
        GroupExpr = Add(Setting.String("group-expr", "an expression used to determine how messages are grouped within summary emails", d, o => o.GroupExpr, (o, v) => o with { GroupExpr = v }));
        Template = Add(Setting.String("template", "path to a summary message template file", d, o => o.Template, (o, v) => o with { Template = v }));
        RelayAddr = Add(Setting.String("relay-addr", "upstream relay server address", d, o => o.RelayAddr, (o, v) => o with { RelayAddr = v }));
        RelayUser = Add(Setting.String("relay-user", "username for auth to relay server", d, o => o.RelayUser, (o, v) => o with { RelayUser = v }));
        RelayPassword = Add(Setting.String("relay-password", "password for auth to relay server", d, o => o.RelayPassword, (o, v) => o with { RelayPassword = v }));
        FailDir = Add(Setting.String("fail-dir", "write failed sends to this maildir", d, o => o.FailDir, (o, v) => o with { FailDir = v }));
        AllDir = Add(Setting.String("all-dir", "write all sends to this maildir", d, o => o.AllDir, (o, v) => o with { AllDir = v }));
        Receiver = Add(Setting.Bool("receiver", "receive and store incoming messages (without --receiver or --sender, both run)", d, o => o.Receiver, (o, v) => o with { Receiver = v }));
        Sender = Add(Setting.Bool("sender", "summarize and send messages (without --receiver or --sender, both run)", d, o => o.Sender, (o, v) => o with { Sender = v }));
        BindHttp = Add(Setting.String("bind-http", "local bind address for the HTTP server", d, o => o.BindHttp, (o, v) => o with { BindHttp = v }));
        Pidfile = Add(Setting.String("pidfile", "write a pidfile to this path", d, o => o.Pidfile, (o, v) => o with { Pidfile = v }));
        // A setting only so that --write-config writes failmail's `version = false` line and a
        // failmail file holding it still loads; in a file it is checked and then ignored
        // (failmail printed the version on every start when a file said true).
        Version = Add(Setting.Bool("version", "show the version number and exit", d, _ => false, (o, _) => o));

        RelayAll = Add(Setting.Bool("relay-all", "relay all messages to the upstream server as well as summarizing them", d, o => o.RelayAll, (o, v) => o with { RelayAll = v }));
        MaxMessageSize = Add(Setting.Int64("max-message-size", "largest message accepted, in bytes (SMTP SIZE)", d, o => o.MaxMessageSize, (o, v) => o with { MaxMessageSize = v }));
        MaxCommandLine = Add(Setting.Int32("max-command-line", "longest SMTP command line accepted, in bytes including CRLF (at least 512)", d, o => o.MaxCommandLine, (o, v) => o with { MaxCommandLine = v }));
        MaxRecipients = Add(Setting.Int32("max-recipients", "most recipients accepted per message", d, o => o.MaxRecipients, (o, v) => o with { MaxRecipients = v }));
        MaxConnections = Add(Setting.Int32("max-connections", "most SMTP connections served at once", d, o => o.MaxConnections, (o, v) => o with { MaxConnections = v }));
        CommandTimeout = Add(Setting.Duration("command-timeout", "close an SMTP connection that sends no complete command for this long", d, o => o.CommandTimeout, (o, v) => o with { CommandTimeout = v }));
        DataTimeout = Add(Setting.Duration("data-timeout", "close an SMTP connection whose message data takes longer than this", d, o => o.DataTimeout, (o, v) => o with { DataTimeout = v }));
        QueueDir = Add(Setting.String("queue-dir", "maildir holding summaries waiting for a relay retry", d, o => o.QueueDir, (o, v) => o with { QueueDir = v }));
        RetryMin = Add(Setting.Duration("retry-min", "first delay before retrying a failed relay", d, o => o.RetryMin, (o, v) => o with { RetryMin = v }));
        RetryMax = Add(Setting.Duration("retry-max", "longest delay between relay retries", d, o => o.RetryMax, (o, v) => o with { RetryMax = v }));
        QueueLifetime = Add(Setting.Duration("queue-lifetime", "give up retrying a summary after this long and move it to the fail-dir", d, o => o.QueueLifetime, (o, v) => o with { QueueLifetime = v }));
        RelayTimeout = Add(Setting.Duration("relay-timeout", "time limit for each relay connect, command and message transfer", d, o => o.RelayTimeout, (o, v) => o with { RelayTimeout = v }));
        LogJson = Add(Setting.Bool("log-json", "write each log line as a JSON object", d, o => o.LogJson, (o, v) => o with { LogJson = v }));
        RelayCaFile = Add(Setting.String("relay-ca-file", "PEM file of the CAs trusted for the relay's certificate, instead of the system roots", d, o => o.RelayCaFile, (o, v) => o with { RelayCaFile = v }));
        RelayFingerprint = Add(Setting.String("relay-fingerprint", "accept only the relay certificate with this hex SHA-256 (colons optional; several separated by commas)", d, o => o.RelayFingerprint, (o, v) => o with { RelayFingerprint = v }));
        RelayInsecure = Add(Setting.Bool("relay-insecure", "accept any relay certificate (unsafe; for tests only)", d, o => o.RelayInsecure, (o, v) => o with { RelayInsecure = v }));
        RelayAuthMechanisms = Add(Setting.String("relay-auth-mechanisms", "comma-separated SASL mechanisms allowed for relay AUTH, e.g. PLAIN,LOGIN; empty allows any that MailKit supports", d, o => o.RelayAuthMechanisms, (o, v) => o with { RelayAuthMechanisms = v }));
        RelayPasswordFile = Add(Setting.String("relay-password-file", "read the relay password from the first line of this file", d, o => o.RelayPasswordFile, (o, v) => o with { RelayPasswordFile = v }));
        Add(Setting.String("qualify-domain", "domain added to bare local names such as root (empty: the host's fully qualified name)", d, o => o.QualifyDomain, (o, v) => o with { QualifyDomain = v }));
        Add(Setting.String("spool-dir", "maildir where `failmail sendmail` leaves messages while the daemon is down; the daemon imports it", d, o => o.SpoolDir, (o, v) => o with { SpoolDir = v }));
        Add(Setting.String("aliases", "aliases file in /etc/aliases format for local recipients", d, o => o.Aliases, (o, v) => o with { Aliases = v }));
        Add(Setting.String("sender-canonical", "canonical map file for sender addresses (Postfix sender_canonical_maps)", d, o => o.SenderCanonical, (o, v) => o with { SenderCanonical = v }));
        Add(Setting.String("recipient-canonical", "canonical map file for recipient addresses (Postfix recipient_canonical_maps)", d, o => o.RecipientCanonical, (o, v) => o with { RecipientCanonical = v }));
        Add(Setting.String("sender-canonical-static", "rewrite every sender address not in --sender-canonical to this address", d, o => o.SenderCanonicalStatic, (o, v) => o with { SenderCanonicalStatic = v }));
        Add(Setting.String("recipient-canonical-static", "rewrite every recipient address not in --recipient-canonical to this address", d, o => o.RecipientCanonicalStatic, (o, v) => o with { RecipientCanonicalStatic = v }));
        Add(Setting.String("canonical-scope", "where canonical maps apply: envelope, headers or both", d, o => o.CanonicalScope, (o, v) => o with { CanonicalScope = v }));
        Add(Setting.String("masquerade-domains", "comma-separated domains whose subdomains are stripped from addresses", d, o => o.MasqueradeDomains, (o, v) => o with { MasqueradeDomains = v }));
        Add(Setting.String("force-from", "force this envelope sender and From header on every received message", d, o => o.ForceFrom, (o, v) => o with { ForceFrom = v }));
        Add(Setting.String("reply-to", "add this Reply-To header to received messages that have none", d, o => o.ReplyTo, (o, v) => o with { ReplyTo = v }));

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
        foreach (var option in _settings.Select(s => s.Option).Append(Config).Append(WriteConfig).OrderBy(o => o.Name, StringComparer.Ordinal))
        {
            Options.Add(option);
        }
        foreach (var option in help)
        {
            Options.Add(option);
        }
        // No [suggest] or other directives: a Go-style command line has no such syntax.
        Directives.Clear();
        Subcommands.Add(new SendmailCommand(this));

        SetAction(RunRootAsync);
        Subcommands.Add(new PreviewCommand(this));
        Subcommands.Add(new Relay.ResendCommand(this));
    }

    public Option<string> BindAddr { get; }
    public Option<int> SocketFd { get; }
    public Option<string> Credentials { get; }
    public Option<string> TlsCert { get; }
    public Option<string> TlsKey { get; }
    public Option<bool> Ssl { get; }
    public Option<TimeSpan> ShutdownTimeout { get; }
    public Option<bool> DebugReceiver { get; }
    public Option<string> RewriteSrc { get; }
    public Option<string> RewriteDest { get; }
    public Option<bool> AllowUnencryptedAuth { get; }
    public Option<bool> MemoryStore { get; }
    public Option<string> MessageStore { get; }
    public Option<string> From { get; }
    public Option<string> SubjectPrefix { get; }
    public Option<TimeSpan> WaitPeriod { get; }
    public Option<TimeSpan> MaxWait { get; }
    public Option<TimeSpan> Poll { get; }
    public Option<string> BatchExpr { get; }
    public Option<string> GroupExpr { get; }
    public Option<string> Template { get; }
    public Option<string> RelayAddr { get; }
    public Option<string> RelayUser { get; }
    public Option<string> RelayPassword { get; }
    public Option<string> FailDir { get; }
    public Option<string> AllDir { get; }
    public Option<bool> Receiver { get; }
    public Option<bool> Sender { get; }
    public Option<string> BindHttp { get; }
    public Option<string> Pidfile { get; }
    public Option<bool> Version { get; }
    public Option<bool> RelayAll { get; }
    public Option<long> MaxMessageSize { get; }
    public Option<int> MaxCommandLine { get; }
    public Option<int> MaxRecipients { get; }
    public Option<int> MaxConnections { get; }
    public Option<TimeSpan> CommandTimeout { get; }
    public Option<TimeSpan> DataTimeout { get; }
    public Option<string> QueueDir { get; }
    public Option<TimeSpan> RetryMin { get; }
    public Option<TimeSpan> RetryMax { get; }
    public Option<TimeSpan> QueueLifetime { get; }
    public Option<TimeSpan> RelayTimeout { get; }
    public Option<bool> LogJson { get; }
    public Option<string> RelayCaFile { get; }
    public Option<string> RelayFingerprint { get; }
    public Option<bool> RelayInsecure { get; }
    public Option<string> RelayAuthMechanisms { get; }
    public Option<string> RelayPasswordFile { get; }
    public Option<string> Config { get; }
    public Option<string> WriteConfig { get; }

    // In --write-config order.
    public IReadOnlyList<Setting> Settings => _settings;

    public static string VersionText =>
        typeof(FailmailCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "unknown";

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
        var flagIsBool = _settings.ToDictionary(s => s.Name, s => s.IsBool, StringComparer.Ordinal);
        flagIsBool["config"] = false;
        flagIsBool["write-config"] = false;
        var subcommands = Subcommands.SelectMany(c => c.Aliases.Append(c.Name)).ToHashSet(StringComparer.Ordinal);
        var configuration = new ParserConfiguration { EnablePosixBundling = false, ResponseFileTokenReplacer = null };

        parseResult = null;
        if (!GoFlagSyntax.TryNormalize(args, flagIsBool, subcommands, out var normalized, out error))
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
    public bool TryPrepare(ParseResult parseResult, [NotNullWhen(true)] out FailmailOptions? options,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        if (_prepared is { } prepared && ReferenceEquals(prepared.Result, parseResult))
        {
            options = prepared.Options;
            error = null;
            return true;
        }
        var configPath = parseResult.GetValue(Config) ?? "";
        if (!SettingsMerger.TryMerge(_settings, parseResult, configPath, out options, out error))
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
        if (!ConfigWriter.TryRender(_settings, options, out var text, out var error))
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

    private Option<T> Add<T>(Setting<T> setting)
    {
        _settings.Add(setting);
        return setting.TypedOption;
    }
}
