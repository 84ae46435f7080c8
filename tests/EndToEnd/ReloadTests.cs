using System.Globalization;
using System.Text.RegularExpressions;

namespace Failmail.Tests.EndToEnd;

// Issue 4's acceptance: reloads under load refuse no connection and lose no message.
[Trait("Category", "EndToEnd")]
public sealed partial class ReloadTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task FiveReloadsUnderSmtpSourceLoadLoseNothing()
    {
        const int Messages = 20_000;
        var dir = TestPaths.NewTempDir();
        var pids = new HashSet<int>();
        try
        {
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            var pidfile = Path.Combine(dir, "failmail.pid");
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", $"127.0.0.1:{sink.Port}", "--bind-http", "", "--pidfile", pidfile,
                "--wait-period", "1s", "--max-wait", "3s", "--poll", "250ms", "--shutdown-timeout", "10s");
            pids.Add(failmail.Pid);
            await failmail.WaitUntilAsync(() => ReadPid(pidfile) == failmail.Pid, Patience, "the pidfile");

            var load = SmtpSourceTests.RunSmtpSourceAsync("-s", "20", "-m", Messages.ToString(CultureInfo.InvariantCulture),
                "-S", "reload test", "-f", "app@example.com", "-t", "ops@example.com", $"127.0.0.1:{failmail.SmtpPort}");
            for (var reload = 0; reload < 5; reload++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(400));
                var current = ReadPid(pidfile) ?? throw new InvalidOperationException("pidfile vanished");
                Signals.Send(current, Signals.Usr1);
                // The child rewrites the pidfile once it serves.
                await failmail.WaitUntilAsync(() => ReadPid(pidfile) is int next && next != current, Patience, $"reload {reload + 1}");
                pids.Add(ReadPid(pidfile)!.Value);
            }
            var (exit, output) = await load.WaitAsync(TimeSpan.FromMinutes(3));
            Assert.True(exit == 0, "smtp-source failed: " + output);
            Assert.Equal(6, pids.Count);

            // Every message reaches a digest: the digests' totals add up to what was sent.
            await failmail.WaitUntilAsync(() => DeliveredCount(sink) >= Messages, TimeSpan.FromMinutes(2), "all messages in digests");
            Assert.Equal(Messages, DeliveredCount(sink));

            var last = ReadPid(pidfile)!.Value;
            Signals.Send(last, Signals.Term);
            await failmail.WaitUntilAsync(() => !File.Exists(pidfile), Patience, "the last process to exit and remove its pidfile");
        }
        finally
        {
            foreach (var pid in pids)
            {
                try
                {
                    Signals.Send(pid, Signals.Kill);
                }
                catch (InvalidOperationException)
                {
                    // Already gone, as it should be.
                }
            }
            Directory.Delete(dir, recursive: true);
        }
    }

    internal static int? ReadPid(string path)
    {
        try
        {
            return int.TryParse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    internal static int DeliveredCount(SmtpSink sink) =>
        sink.Messages().Sum(m => int.Parse(TotalLine().Match(m.Message.TextBody ?? "").Groups[1].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"Total messages: (\d+)")]
    private static partial Regex TotalLine();
}
