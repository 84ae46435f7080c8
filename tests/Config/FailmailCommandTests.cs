using System.CommandLine;
using System.Reflection;
using Failmail.Config;

namespace Failmail.Tests.Config;

// failmail ships for linux-x64 only; the 0600 checks use Unix file modes.
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class FailmailCommandTests : IDisposable
{
    private static readonly FailmailOptions Defaults = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("failmail-command-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed record Outcome(int ExitCode, FailmailOptions? Options, string Output, string Error, InvocationConfiguration Configuration)
    {
        public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static async Task<Outcome> InvokeAsync(params string[] args)
    {
        FailmailOptions? captured = null;
        var command = new FailmailCommand((options, _) =>
        {
            captured = options;
            return Task.FromResult(0);
        });
        var output = new StringWriter();
        var error = new StringWriter();
        var configuration = new InvocationConfiguration { Output = output, Error = error };
        var code = await command.InvokeAsync(args, configuration).WaitAsync(TimeSpan.FromSeconds(10));
        return new Outcome(code, captured, output.ToString(), error.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), configuration);
    }

    private static async Task<FailmailOptions> OptionsAsync(params string[] args)
    {
        var outcome = await InvokeAsync(args);
        Assert.Equal("", outcome.Error);
        Assert.Equal(0, outcome.ExitCode);
        Assert.NotNull(outcome.Options);
        return outcome.Options;
    }

    private static async Task<string> SingleErrorAsync(params string[] args)
    {
        var outcome = await InvokeAsync(args);
        Assert.Equal(FailmailCommand.UsageError, outcome.ExitCode);
        Assert.Null(outcome.Options);
        Assert.Equal("", outcome.Output);
        return Assert.Single(outcome.ErrorLines);
    }

    private string WriteFile(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task NoArgumentsRunsWithTheDefaults()
    {
        Assert.Equal(Defaults, await OptionsAsync());
    }

    [Theory]
    [InlineData("-max-wait", "7m")]
    [InlineData("--max-wait", "7m")]
    [InlineData("-max-wait=7m")]
    [InlineData("--max-wait=7m")]
    [InlineData("--max-wait=1m", "-max-wait", "7m")]
    [InlineData("-max-wait", "1h", "--max-wait=7m")]
    public async Task FlagsTakeOneOrTwoHyphensEqualsOrSpaceAndTheLastWins(params string[] args)
    {
        Assert.Equal(Defaults with { MaxWait = TimeSpan.FromMinutes(7) }, await OptionsAsync(args));
    }

    [Theory]
    [InlineData(true, "-debug-receiver")]
    [InlineData(true, "--debug-receiver")]
    [InlineData(true, "--debug-receiver=true")]
    [InlineData(true, "-debug-receiver=1")]
    [InlineData(true, "-debug-receiver=T")]
    [InlineData(true, "-debug-receiver=TRUE")]
    [InlineData(false, "--debug-receiver=false")]
    [InlineData(false, "--debug-receiver=0")]
    [InlineData(false, "--debug-receiver=F")]
    [InlineData(false, "-debug-receiver", "-debug-receiver=False")]
    [InlineData(true, "-debug-receiver=false", "-debug-receiver")]
    public async Task BoolFlagsFollowGo(bool expected, params string[] args)
    {
        Assert.Equal(expected, (await OptionsAsync(args)).DebugReceiver);
    }

    [Fact]
    public async Task ABoolDoesNotTakeTheNextArgument()
    {
        Assert.Equal("failmail: unexpected argument \"false\" (failmail takes only flags; see --help)",
            await SingleErrorAsync("-debug-receiver", "false"));
    }

    [Fact]
    public async Task AnInvalidBoolIsOneLine()
    {
        Assert.Equal("failmail: --debug-receiver: invalid boolean value \"yes\" (use true or false)",
            await SingleErrorAsync("--debug-receiver=yes"));
    }

    [Fact]
    public async Task TheNextArgumentIsTheValueEvenWhenItStartsWithAHyphen()
    {
        var options = await OptionsAsync("--subject-prefix", "-x-", "-from", "--receiver", "--relay-user", "-");
        Assert.Equal(Defaults with { SubjectPrefix = "-x-", From = "--receiver", RelayUser = "-" }, options);
    }

    [Fact]
    public async Task ValuesKeepEqualsSignsColonsAndSpaces()
    {
        var options = await OptionsAsync("--credentials=user:pa=ss", "--batch-expr", "{{.Header.Get \"X\"}}", "-bind-addr=[::1]:2525");
        Assert.Equal(Defaults with { Credentials = "user:pa=ss", BatchExpr = "{{.Header.Get \"X\"}}", BindAddr = "[::1]:2525" }, options);
    }

    [Theory]
    [InlineData("--all-dir=")]
    [InlineData("-all-dir", "")]
    public async Task AnEmptyValueSetsAnEmptyString(params string[] args)
    {
        var config = WriteFile("a.conf", "all_dir = copies\n");
        Assert.Equal("copies", (await OptionsAsync("--config", config)).AllDir);
        Assert.Equal("", (await OptionsAsync([.. args, "--config", config])).AllDir);
    }

    [Theory]
    [InlineData("16", 16)]
    [InlineData("0x10", 16)]
    [InlineData("0X1f", 31)]
    [InlineData("020", 16)]
    [InlineData("0o20", 16)]
    [InlineData("0b10000", 16)]
    [InlineData("1_000", 1000)]
    [InlineData("+7", 7)]
    public async Task IntFlagsTakeGoBasePrefixes(string text, int expected)
    {
        Assert.Equal(expected, (await OptionsAsync("--max-connections", text)).MaxConnections);
    }

    [Theory]
    [InlineData("1e3")]
    [InlineData("08")]
    [InlineData("0x")]
    [InlineData("1__0")]
    [InlineData("99999999999")]
    [InlineData("ten")]
    public async Task BadIntsAreOneLine(string text)
    {
        Assert.Equal($"failmail: --max-connections: invalid integer \"{text}\"", await SingleErrorAsync("--max-connections", text));
    }

    [Fact]
    public async Task EveryTypeOfSettingIsReadFromFlags()
    {
        var options = await OptionsAsync("-max-message-size=20971520", "-socket-fd=3", "-poll=250ms", "-relay-all", "-receiver");
        Assert.Equal(Defaults with
        {
            MaxMessageSize = 20 * 1024 * 1024,
            SocketFd = 3,
            Poll = TimeSpan.FromMilliseconds(250),
            RelayAll = true,
            Receiver = true,
        }, options);
        Assert.True(options.RunReceiver);
        Assert.False(options.RunSender);
    }

    [Fact]
    public async Task FlagBeatsConfigFileBeatsDefault()
    {
        var config = WriteFile("p.conf", "# settings\nmax_wait = 1m\nDebugReceiver = true\nrelay_all = true\nfrom = file@example.com\nsubject_prefix = [file]\n");
        var options = await OptionsAsync("--from=flag@example.com", "--config", config, "-debug-receiver=false");
        Assert.Equal(Defaults with
        {
            MaxWait = TimeSpan.FromMinutes(1),
            DebugReceiver = false,
            RelayAll = true,
            From = "flag@example.com",
            SubjectPrefix = "[file]",
        }, options);
    }

    [Fact]
    public async Task ConfigAndWriteConfigKeysInAFileAreIgnored()
    {
        var config = WriteFile("i.conf", $"config = {Path.Combine(_dir, "other.conf")}\nwrite_config = {Path.Combine(_dir, "out.conf")}\nversion = true\n");
        // failmail printed its version and exited on every start when a file said version = true.
        Assert.Equal(Defaults, await OptionsAsync("--config", config));
        Assert.False(File.Exists(Path.Combine(_dir, "out.conf")));
    }

    [Fact]
    public async Task AVersionKeyInAFileMustStillBeABool()
    {
        var config = WriteFile("vb.conf", "version = yes\n");
        Assert.Equal($"failmail: --config {config}: line 1: version: invalid boolean value \"yes\" (use true or false)",
            await SingleErrorAsync("--config", config));
    }

    [Fact]
    public async Task AnUnknownKeyNamesTheFileAndLine()
    {
        var config = WriteFile("u.conf", "from = a@b\nrelay = localhost:25\n");
        Assert.Equal($"failmail: --config {config}: line 2: unknown setting \"relay\"", await SingleErrorAsync("--config", config));
    }

    [Fact]
    public async Task ABadValueNamesTheFileLineAndSetting()
    {
        var config = WriteFile("v.conf", "\n\nmax_wait = 30\n");
        Assert.Equal($"failmail: --config {config}: line 3: max_wait: invalid duration \"30\" (use Go syntax such as 30s, 5m0s)",
            await SingleErrorAsync("--config", config));
    }

    [Fact]
    public async Task AMalformedLineNamesTheFileAndLine()
    {
        var config = WriteFile("m.conf", "from = a@b\r\nmax-wait: 5m\r\n");
        Assert.StartsWith($"failmail: --config {config}: line 2: expected \"key = value\"", await SingleErrorAsync("--config", config), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingConfigFileIsOneLine()
    {
        var path = Path.Combine(_dir, "missing.conf");
        Assert.Equal($"failmail: --config {path}: no such file or directory", await SingleErrorAsync("-config", path));
    }

    [Fact]
    public async Task WriteConfigWritesFailmailsFormatThenOurSettings()
    {
        var path = Path.Combine(_dir, "out.conf");
        var outcome = await InvokeAsync("--write-config", path);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Null(outcome.Options);
        Assert.Equal("", outcome.Error);
        var expected = $$$"""
            bind_addr = localhost:2525
            socket_fd = 0
            credentials = 
            tls_cert = 
            tls_key = 
            ssl = false
            shutdown_timeout = 5s
            debug_receiver = false
            rewrite_src = 
            rewrite_dest = 
            allow_unencrypted_auth = false
            memory_store = false
            message_store = incoming
            from = {{{Defaults.From}}}
            subject_prefix = [failmail]
            wait_period = 30s
            max_wait = 5m0s
            poll = 5s
            batch_expr = {{.Header.Get "X-Failmail-Split"}}
            group_expr = {{.Header.Get "Subject"}}
            template = 
            relay_addr = localhost:25
            relay_user = 
            relay_password = 
            fail_dir = failed
            all_dir = 
            receiver = false
            sender = false
            bind_http = localhost:8025
            pidfile = 
            version = false
            relay_all = false
            max_message_size = 10485760
            max_command_line = 512
            max_recipients = 100
            max_connections = 200
            command_timeout = 5m0s
            data_timeout = 10m0s
            queue_dir = outgoing
            retry_min = 30s
            retry_max = 10m0s
            queue_lifetime = 24h0m0s
            relay_timeout = 1m0s
            log_json = false
            relay_ca_file = 
            relay_fingerprint = 
            relay_insecure = false
            relay_auth_mechanisms = 
            relay_password_file = 
            qualify_domain = 
            spool_dir = spool
            aliases = 
            sender_canonical = 
            recipient_canonical = 
            sender_canonical_static = 
            recipient_canonical_static = 
            canonical_scope = both
            masquerade_domains = 
            force_from = 
            reply_to = 

            """;
        Assert.Equal(expected.Replace("\r\n", "\n", StringComparison.Ordinal), await File.ReadAllTextAsync(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public async Task WriteConfigReadsBackIntoTheSameOptions()
    {
        string[] everySettingChanged =
        [
            "-bind-addr=127.0.0.1:2600", "-socket-fd=3", "-credentials=u:p:w", "-tls-cert=c.pem", "-tls-key=k.pem",
            "-ssl", "-shutdown-timeout=1.5s", "-debug-receiver", "-rewrite-src=^(.*)@a$", "-rewrite-dest=$1@b",
            "-allow-unencrypted-auth", "-memory-store", "-message-store=", "-from=alerts@example.com",
            "-subject-prefix=[x] #1", "-wait-period=0", "-max-wait=1h2m3.004s", "-poll=100ms",
            "-batch-expr={{.Header.Get \"X-Split\"}}", "-group-expr={{.Header.Get \"X-Group\"}}", "-template=t.tmpl",
            "-relay-addr=debug", "-relay-user=ru", "-relay-password=p = w # x", "-fail-dir=f", "-all-dir=all",
            "-receiver", "-sender", "-bind-http=:8026", "-pidfile=failmail.pid", "-relay-all",
            "-max-message-size=0x100000", "-max-command-line=1024", "-max-recipients=5", "-max-connections=7",
            "-command-timeout=1m", "-data-timeout=2m", "-queue-dir=q", "-retry-min=1s", "-retry-max=2h",
            "-queue-lifetime=72h", "-relay-timeout=15s", "-log-json",
            "-relay-ca-file=ca.pem", "-relay-fingerprint=AB:" + string.Join(':', Enumerable.Repeat("CD", 31)), "-relay-insecure",
            "-relay-auth-mechanisms=PLAIN,LOGIN", "-relay-password-file=/run/secrets/relay",
            "-qualify-domain=q.example", "-spool-dir=sp", "-aliases=al", "-sender-canonical=sc", "-recipient-canonical=rc",
            "-sender-canonical-static=s@example.com", "-recipient-canonical-static=r@example.com", "-canonical-scope=envelope",
            "-masquerade-domains=example.com", "-force-from=f@example.com", "-reply-to=ops@example.com",
        ];
        var expected = await OptionsAsync(everySettingChanged);
        var path = Path.Combine(_dir, "all.conf");
        Assert.Equal(0, (await InvokeAsync([.. everySettingChanged, "--write-config", path])).ExitCode);

        var readBack = await OptionsAsync("--config", path);
        Assert.Equal(expected, readBack);
        // Every setting really differs from its default, so the round trip proves each one.
        foreach (var property in SettingProperties())
        {
            Assert.NotEqual(property.GetValue(Defaults), property.GetValue(readBack));
        }
    }

    [Fact]
    public async Task WriteConfigReplacesAnExistingFilesContentAndKeepsItsMode()
    {
        var path = WriteFile("old.conf", new string('#', 4000) + "\n");
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
        File.SetUnixFileMode(path, mode);
        Assert.Equal(0, (await InvokeAsync("-write-config", path, "-relay-password=secret")).ExitCode);
        Assert.Equal(mode, File.GetUnixFileMode(path));
        var text = await File.ReadAllTextAsync(path);
        Assert.StartsWith("bind_addr = ", text, StringComparison.Ordinal);
        Assert.DoesNotContain('#', text);
        Assert.Contains("relay_password = secret\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteConfigWritesThroughASymlinkInsteadOfReplacingIt()
    {
        var target = Path.Combine(_dir, "target.conf");
        var link = Path.Combine(_dir, "link.conf");
        File.CreateSymbolicLink(link, target);
        Assert.Equal(0, (await InvokeAsync("-write-config", link)).ExitCode);
        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.StartsWith("bind_addr = localhost:2525\n", await File.ReadAllTextAsync(target), StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(target));
    }

    [Fact]
    public async Task WriteConfigIntoAMissingDirectoryFailsWithOneLine()
    {
        var path = Path.Combine(_dir, "missing", "x.conf");
        var outcome = await InvokeAsync("-write-config", path);
        Assert.Equal(1, outcome.ExitCode);
        Assert.Equal($"failmail: --write-config {path}: no such directory", Assert.Single(outcome.ErrorLines));
    }

    [Fact]
    public async Task WriteConfigRefusesInvalidSettings()
    {
        var path = Path.Combine(_dir, "bad.conf");
        Assert.Equal("failmail: --credentials: must be in username:password format", await SingleErrorAsync("--write-config", path, "--credentials=nocolon"));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task WriteConfigRefusesAValueThatWouldNotReadBack()
    {
        var path = Path.Combine(_dir, "space.conf");
        Assert.Equal($"failmail: --write-config {path}: the value of subject_prefix has a line break or surrounding whitespace, which a config file cannot hold",
            await SingleErrorAsync("--write-config", path, "--subject-prefix", "[x] "));
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData("--version")]
    [InlineData("-version")]
    [InlineData("-version=true")]
    public async Task VersionPrintsAndExits(string flag)
    {
        var outcome = await InvokeAsync(flag);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Null(outcome.Options);
        Assert.Equal($"failmail {FailmailCommand.VersionText}\n", outcome.Output.Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.StartsWith("0.1.0", FailmailCommand.VersionText, StringComparison.Ordinal);
        Assert.Equal("", outcome.Error);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-help")]
    [InlineData("-h")]
    [InlineData("--h")]
    [InlineData("-max-wait=5x", "--help")]
    public async Task HelpListsEveryFlagWithItsDefault(params string[] args)
    {
        var outcome = await InvokeAsync(args);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Null(outcome.Options);
        Assert.Equal("", outcome.Error);
        var command = new FailmailCommand();
        foreach (var setting in command.Settings)
        {
            Assert.Contains($"--{setting.Name}", outcome.Output, StringComparison.Ordinal);
        }
        Assert.Contains("--config <string>", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("--write-config <string>", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("--max-wait <duration>", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("wait at most this long from first message to send summary (default 5m0s)", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("upstream relay server address (default \"localhost:25\")", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("enable TLS immediately (disables STARTTLS) (default false)", outcome.Output, StringComparison.Ordinal);
        Assert.Contains($"from address (default \"{Defaults.From}\")", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("(default \"{{.Header.Get \\\"X-Failmail-Split\\\"}}\")", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("--socket-fd <int>", outcome.Output, StringComparison.Ordinal);
        Assert.True(outcome.Output.IndexOf("--all-dir", StringComparison.Ordinal) < outcome.Output.IndexOf("--write-config", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("failmail: --max-wait: invalid duration \"5x\" (use Go syntax such as 30s, 5m0s)", "-max-wait", "5x")]
    [InlineData("failmail: --max-wait: invalid duration \"30\" (use Go syntax such as 30s, 5m0s)", "--max-wait=30")]
    [InlineData("failmail: flag provided but not defined: --bogus", "--bogus")]
    [InlineData("failmail: flag provided but not defined: -relay", "-relay=localhost:25")]
    [InlineData("failmail: flag provided but not defined: --wait", "--wait=30s")]
    [InlineData("failmail: flag needs an argument: --max-wait", "--max-wait")]
    [InlineData("failmail: bad flag syntax: ---max-wait=5m", "---max-wait=5m")]
    [InlineData("failmail: bad flag syntax: -=x", "-=x")]
    [InlineData("failmail: unexpected argument \"extra\" (failmail takes only flags; see --help)", "--receiver", "extra")]
    [InlineData("failmail: unexpected argument \"-\" (failmail takes only flags; see --help)", "-")]
    [InlineData("failmail: --max-wait: must not be negative (got -1s)", "-max-wait=-1s")]
    [InlineData("failmail: --credentials: must be in username:password format", "-credentials", "user")]
    [InlineData("failmail: --ssl: needs --tls-cert and --tls-key", "-ssl")]
    [InlineData("failmail: --tls-key: needs --tls-cert as well", "-tls-key=k.pem")]
    [InlineData("failmail: --message-store: must not be empty unless --memory-store is set", "-message-store=")]
    public async Task ErrorsExitWith2AndOneLine(string expected, params string[] args)
    {
        Assert.Equal(expected, await SingleErrorAsync(args));
    }

    [Fact]
    public async Task SeveralInvalidSettingsGiveOneLineEach()
    {
        var outcome = await InvokeAsync("-credentials=x", "-max-wait=-1s");
        Assert.Equal(FailmailCommand.UsageError, outcome.ExitCode);
        Assert.Equal(["failmail: --credentials: must be in username:password format", "failmail: --max-wait: must not be negative (got -1s)"],
            outcome.ErrorLines);
    }

    [Fact]
    public async Task SignalHandlingIsLeftToTheHost()
    {
        // System.CommandLine's handler would block the signal thread and force exit 130/143.
        var outcome = await InvokeAsync("--shutdown-timeout=10s", "--relay-timeout=20s");
        Assert.Null(outcome.Configuration.ProcessTerminationTimeout);
    }

    [Fact]
    public async Task TheHostsExitCodeIsReturnedAndItGetsTheCancellationToken()
    {
        using var cts = new CancellationTokenSource();
        var command = new FailmailCommand(async (_, token) =>
        {
            await Task.Delay(Timeout.Infinite, token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return 7;
        });
        var run = command.InvokeAsync([], new InvocationConfiguration { Output = TextWriter.Null, Error = TextWriter.Null }, cts.Token);
        await cts.CancelAsync();
        Assert.Equal(7, await run.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void ASubcommandTakesTheRestOfTheLine()
    {
        var command = new FailmailCommand((_, _) => Task.FromResult(0));
        var directory = new Argument<string>("dir");
        // Not "resend": FailmailCommand registers that one itself.
        var probe = new Command("probe") { directory };
        command.Subcommands.Add(probe);

        Assert.True(command.TryParse(["-max-wait=1m", "probe", "failed"], out var result, out var error), error);
        Assert.Same(probe, result.CommandResult.Command);
        Assert.Equal("failed", result.GetValue(directory));
    }

    [Fact]
    public void EveryFailmailOptionsPropertyHasASetting()
    {
        var names = new FailmailCommand().Settings.Select(s => s.Name).ToHashSet();
        foreach (var property in SettingProperties())
        {
            Assert.Contains(ConfigFile.NormalizeKey(property.Name), names);
        }
        Assert.Equal(SettingProperties().Count() + 1, names.Count); // + version
    }

    // The settable properties; RunReceiver and RunSender are derived.
    private static IEnumerable<PropertyInfo> SettingProperties() =>
        typeof(FailmailOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite);
}
