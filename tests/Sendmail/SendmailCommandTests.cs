using System.Net;
using System.Net.Sockets;
using System.Text;
using Failmail.Sendmail;

namespace Failmail.Tests.Sendmail;

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

    [Fact]
    public async Task ADaemonThatIsDownMeansTempFailAndASpooledMessage()
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

        Assert.Equal(SysExits.TempFail, code);
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"sendmail: failmail at 127.0.0.1:{port} is unavailable (", line, StringComparison.Ordinal);
        var file = Assert.Single(Directory.GetFiles(Path.Combine(options.SpoolDir, "new")));
        Assert.True(SpoolFile.TryDecode(await File.ReadAllBytesAsync(file), out var spooled));
        Assert.Equal(["root@host1.example.com"], spooled!.Recipients);
        Assert.Contains("Subject: cron\r\n", Encoding.UTF8.GetString(spooled.Bytes), StringComparison.Ordinal);
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
