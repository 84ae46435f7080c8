using System.CommandLine;
using Failmail.Cli;
using Failmail.Config;
using static Failmail.Tests.Cli.FailmailCommandKit;

namespace Failmail.Tests.Cli;

// The root command line: Go flag syntax, values, --version, --help, errors, the host hand-off.
public sealed class FailmailCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("failmail-command-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteFile(string name, string text) => FailmailCommandKit.WriteFile(_dir, name, text);

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

    // Go failmail's README spells --bind, --relay and --wait (its supervisord line verbatim).
    [Fact]
    public async Task BindRelayAndWaitAreAliasesOfTheirFlags()
    {
        Assert.Equal(Defaults with { RelayAddr = "smtp.mycompany.example.com:25", BindAddr = "0.0.0.0:25", WaitPeriod = TimeSpan.FromMinutes(1) },
            await OptionsAsync("--relay=smtp.mycompany.example.com:25", "-bind", "0.0.0.0:25", "--wait=1m"));
        // Alias and flag are one flag: the last of them wins.
        Assert.Equal("b:25", (await OptionsAsync("--relay-addr=a:25", "--relay=b:25")).RelayAddr);
        Assert.Equal("a:25", (await OptionsAsync("--relay=b:25", "--relay-addr=a:25")).RelayAddr);
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
    [InlineData("failmail: flag provided but not defined: --relay-adr (did you mean --relay-addr?)", "--relay-adr=localhost:25")]
    [InlineData("failmail: flag provided but not defined: -relay-host (did you mean --relay-addr?)", "-relay-host=localhost:25")]
    [InlineData("failmail: flag provided but not defined: --rleay (did you mean --relay-addr?)", "--rleay=localhost:25")]
    [InlineData("failmail: flag provided but not defined: --wait-perod (did you mean --wait-period?)", "--wait-perod=30s")]
    [InlineData("failmail: flag provided but not defined: --fail (did you mean --fail-dir?)", "--fail=/tmp")]
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

    // Issue 11: a malformed expression is a start-up error, from a flag or the config file,
    // in every mode and for --write-config, with the flag and the column.
    [Theory]
    [InlineData("--group-expr")]
    [InlineData("--batch-expr")]
    public async Task AMalformedExpressionIsOneLineWithItsColumn(string flag)
    {
        const string Expected = ": syntax error at column 16: expected ']' to close '[' at column 11, found '}}'";
        const string Bad = "{{ headers[\"x\" }}";
        Assert.Equal($"failmail: {flag}{Expected}", await SingleErrorAsync(flag, Bad));
        Assert.Equal($"failmail: {flag}{Expected}", await SingleErrorAsync(flag, Bad, "--receiver"));
        var config = WriteFile("bad.conf", $"{flag[2..].Replace('-', '_')} = {Bad}\n");
        Assert.Equal($"failmail: {flag}{Expected}", await SingleErrorAsync("--config", config));
        var written = Path.Combine(_dir, "written.conf");
        Assert.Equal($"failmail: {flag}{Expected}", await SingleErrorAsync(flag, Bad, "--write-config", written));
        Assert.False(File.Exists(written));
        var options = await OptionsAsync(flag, "{{ headers[\"x\"] }}");
        Assert.Equal("{{ headers[\"x\"] }}", flag == "--group-expr" ? options.GroupExpr : options.BatchExpr);
    }

    [Fact]
    public async Task PreviewReportsAMalformedExpressionAndExits2()
    {
        var eml = WriteFile("one.eml", "To: ops@example.com\r\nSubject: disk full\r\n\r\nbody\r\n");
        var outcome = await InvokeAsync("--group-expr", "{{ headers[\"x\" }}", "preview", eml);
        Assert.Equal(FailmailCommand.UsageError, outcome.ExitCode);
        Assert.Equal("", outcome.Output);
        Assert.Equal(["failmail: preview: --group-expr: syntax error at column 16: expected ']' to close '[' at column 11, found '}}'"], outcome.ErrorLines);
        var good = await InvokeAsync("--group-expr", "{{ headers[\"x\"] }}", "preview", eml);
        Assert.Equal(0, good.ExitCode);
        Assert.Contains("Subject: [failmail] 1 instance: disk full", good.Output, StringComparison.Ordinal);
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
}
