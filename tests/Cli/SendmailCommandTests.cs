using System.CommandLine;
using System.Net.Sockets;
using System.Net;
using System.Text;
using Failmail.Cli;
using Failmail.Sendmail;

namespace Failmail.Tests.Cli;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SendmailCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("failmail-sendmail-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ASendmailLinkRoutesEveryArgumentToTheSubcommand()
    {
        Assert.Equal(["-t", "root"], SendmailCommand.RouteInvokedName(["-t", "root"], "/usr/bin/failmail"));
        var routed = SendmailCommand.RouteInvokedName(["-oi", "-t"], "/usr/sbin/sendmail");
        Assert.Equal([SendmailCommand.RegisteredName, "-oi", "-t"], routed.Where(a => !a.StartsWith("--config=", StringComparison.Ordinal)));
    }

    [Fact]
    public void RootFlagsGoBeforeAndSendmailArgumentsArriveVerbatim()
    {
        var command = new FailmailCommand((_, _) => Task.FromResult(0));
        Assert.True(command.TryParse(["--bind-addr", "127.0.0.1:1", "sendmail", "-h", "5", "--help", "-t", "--", "root"], out var result, out var error), error);
        Assert.Equal("sendmail", result.CommandResult.Command.Name);
        Assert.Equal(["-h", "5", "--help", "-t", "--", "root"], result.GetValue<string[]>("arguments")!);
        Assert.True(command.TryPrepare(result, out var options, out error), error);
        Assert.Equal("127.0.0.1:1", options.BindAddr);
    }

    private static async Task<(int Code, string Output, string Error)> InvokeAsync(IReadOnlyList<string> args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var command = new FailmailCommand((_, _) => throw new InvalidOperationException("the daemon must not start"));
        var code = await command.InvokeAsync(args, new InvocationConfiguration { Output = output, Error = error })
            .WaitAsync(TimeSpan.FromSeconds(10));
        return (code, output.ToString().ReplaceLineEndings("\n"), error.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task SendmailHelpPrintsTheSubcommandsUsageOnStdoutAndExitsZero()
    {
        // A config file that does not exist: help needs no settings.
        var (code, output, error) = await InvokeAsync(["--config", Path.Combine(_dir, "missing.conf"), "sendmail", "--help"]);

        Assert.Equal(SysExits.Ok, code);
        Assert.Equal("", error);
        Assert.StartsWith("Usage: failmail [flags] sendmail [options] [recipients...]\n", output, StringComparison.Ordinal);
        Assert.Contains("\n  -t ", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "spool")));
    }

    [Fact]
    public async Task ThroughASendmailLinkHelpIsTheSameUsage()
    {
        var (code, output, error) = await InvokeAsync(SendmailCommand.RouteInvokedName(["--help"], "/usr/sbin/sendmail"));

        Assert.Equal(SysExits.Ok, code);
        Assert.Equal("", error);
        Assert.Equal(SendmailUsage.Text.ReplaceLineEndings("\n") + "\n", output);
    }

    [Theory]
    // Anything sendmail does not know stays EX_USAGE, --help after another option included.
    [InlineData("--bogus")]
    [InlineData("-z")]
    [InlineData("-t", "--help")]
    [InlineData("-?")]
    public async Task UnknownSendmailOptionsStillExitWithUsage(params string[] sendmailArgs)
    {
        var spool = Path.Combine(_dir, "spool");
        foreach (var args in new[]
        {
            (IReadOnlyList<string>)["--spool-dir", spool, "sendmail", .. sendmailArgs],
            // Without the --config= a host's /etc/failmail.conf would add: only the options count here.
            [.. SendmailCommand.RouteInvokedName(sendmailArgs, "/usr/sbin/sendmail").Where(a => !a.StartsWith("--config=", StringComparison.Ordinal))],
        })
        {
            var (code, output, error) = await InvokeAsync(args);

            Assert.Equal(SysExits.Usage, code);
            Assert.Equal("", output);
            Assert.StartsWith("sendmail: unknown option ", error, StringComparison.Ordinal);
        }
        Assert.False(Directory.Exists(spool));
    }

    [Fact]
    public async Task MinusHIsTheHopCountNotHelp()
    {
        var (code, output, error) = await InvokeAsync(["sendmail", "-h"]);

        Assert.Equal(SysExits.Usage, code);
        Assert.Equal("", output);
        Assert.Equal("sendmail: option -h needs a value\n", error);
    }

    [Fact]
    public async Task ADaemonThatIsDownMeansASpooledMessageAndSuccess()
    {
        // A port that was just free: nothing listens, the connection is refused at once.
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        probe.Dispose();
        var options = new FailmailOptions { BindAddr = $"127.0.0.1:{port}", SpoolDir = Path.Combine(_dir, "spool"), QualifyDomain = "host1.example.com" };
        var error = new StringWriter();
        using var input = new MemoryStream("Subject: cron\n\nout\n"u8.ToArray());

        var code = await SendmailClient.RunAsync(options, ["-t", "root"], input, error, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        // Stored durably is accepted, silently, as Postfix's sendmail does when postdrop queues it.
        Assert.Equal(SysExits.Ok, code);
        Assert.Equal("", error.ToString());
        var file = Assert.Single(Directory.GetFiles(Path.Combine(options.SpoolDir, "new")));
        Assert.Equal(SpoolDirectory.FileMode, File.GetUnixFileMode(file));
        Assert.Equal(SpoolDirectory.DropMode, File.GetUnixFileMode(Path.Combine(options.SpoolDir, "new")));
        Assert.Empty(Directory.GetFiles(Path.Combine(options.SpoolDir, "tmp")));
        Assert.True(SpoolFile.TryDecode(await File.ReadAllBytesAsync(file), SpoolLimits.From(options), out var spooled, out _));
        Assert.Equal(["root@host1.example.com"], spooled!.Recipients);
        Assert.Contains("Subject: cron\r\n", Encoding.UTF8.GetString(spooled.Bytes), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADaemonThatIsDownAndASpoolThatCannotBeWrittenMeanTempFail()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        probe.Dispose();
        // A file where the spool's directory should be: nothing can be stored there.
        var notADirectory = Path.Combine(_dir, "spool");
        await File.WriteAllTextAsync(notADirectory, "");
        var options = new FailmailOptions { BindAddr = $"127.0.0.1:{port}", SpoolDir = notADirectory, QualifyDomain = "host1.example.com" };
        var error = new StringWriter();
        using var input = new MemoryStream("Subject: cron\n\nout\n"u8.ToArray());

        var code = await SendmailClient.RunAsync(options, ["-t", "root"], input, error, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(SysExits.TempFail, code);
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"sendmail: failmail at 127.0.0.1:{port} is unavailable (", line, StringComparison.Ordinal);
        Assert.EndsWith("; the message was NOT sent", line, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutConfigTheSubcommandReadsFailmailConfigOrTheSystemFile()
    {
        Assert.Equal("/etc/x.conf", SendmailCommand.DefaultConfig(_ => "/etc/x.conf", _ => true));
        Assert.Equal(SendmailCommand.SystemConfig, SendmailCommand.DefaultConfig(_ => null, p => p == SendmailCommand.SystemConfig));
        Assert.Null(SendmailCommand.DefaultConfig(_ => "", _ => false));

        var shared = Path.Combine(_dir, "failmail.conf");
        File.WriteAllText(shared, "spool_dir = /srv/spool\n");
        var own = Path.Combine(_dir, "own.conf");
        File.WriteAllText(own, "spool_dir = /srv/own\n");
        var command = new FailmailCommand((_, _) => Task.FromResult(0));
        Assert.True(command.TryParse(["sendmail", "-t"], out var result, out var error), error);
        Assert.True(command.TryPrepare(result, out var options, out error, defaultConfig: shared), error);
        Assert.Equal("/srv/spool", options.SpoolDir);

        var explicitConfig = new FailmailCommand((_, _) => Task.FromResult(0));
        Assert.True(explicitConfig.TryParse(["--config", own, "sendmail", "-t"], out result, out error), error);
        Assert.True(explicitConfig.TryPrepare(result, out options, out error, defaultConfig: shared), error);
        Assert.Equal("/srv/own", options.SpoolDir);
    }

    [Fact]
    public void TheSpoolDefaultIsAbsoluteAndSharedWithTheDaemon()
    {
        Assert.Equal("/var/spool/failmail", new FailmailOptions().SpoolDir);
    }

    [Fact]
    public async Task BadFlagsAndNoRecipientsAreUsageErrors()
    {
        var options = new FailmailOptions { SpoolDir = Path.Combine(_dir, "spool") };
        Assert.Equal(SysExits.Usage, await SendmailClient.RunAsync(options, ["-z"], new MemoryStream(), new StringWriter(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(SysExits.Usage, await SendmailClient.RunAsync(options, ["-t"], new MemoryStream("Subject: x\n\n"u8.ToArray()), new StringWriter(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(Directory.Exists(options.SpoolDir));
    }
}
