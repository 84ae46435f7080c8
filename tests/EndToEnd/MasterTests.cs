using System.Globalization;
using System.Text.RegularExpressions;

namespace Failmail.Tests.EndToEnd;

// --master outside a supervisor: an inherited --socket-fd, --pidfile naming the master, a
// worker killed with -9 restarted by the master (the message it had acknowledged still
// delivered), and SIGTERM stopping both.
[Trait("Category", "EndToEnd")]
public sealed partial class MasterTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AKilledWorkerIsRestartedAndThePidfileNamesTheMaster()
    {
        var dir = TestPaths.NewTempDir();
        var workers = new List<int>();
        try
        {
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            var pidfile = Path.Combine(dir, "failmail.pid");
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--master", "--relay-addr", $"127.0.0.1:{sink.Port}", "--bind-http", "", "--pidfile", pidfile,
                "--wait-period", "1s", "--max-wait", "3s", "--poll", "200ms");
            Assert.Equal(failmail.Pid.ToString(CultureInfo.InvariantCulture), (await File.ReadAllTextAsync(pidfile)).Trim());
            var first = Worker(failmail.Stderr, 0);
            workers.Add(first);

            // Acknowledged, then the worker dies before its digest is due.
            await SmtpSourceTests.RunSmtpSourceAsync("-m", "1", "-S", "before the crash", "-f", "app@example.com", "-t", "ops@example.com",
                $"127.0.0.1:{failmail.SmtpPort}");
            Signals.Send(first, Signals.Kill);
            await failmail.WaitUntilAsync(() => WorkerPids().Matches(failmail.Stderr).Count >= 2, Patience, "a new worker");
            Assert.Contains($"master: worker pid {first} ended unexpectedly with status 137", failmail.Stderr, StringComparison.Ordinal);
            var second = Worker(failmail.Stderr, 1);
            workers.Add(second);
            Assert.False(failmail.HasExited);
            Assert.Equal(failmail.Pid.ToString(CultureInfo.InvariantCulture), (await File.ReadAllTextAsync(pidfile)).Trim());

            // The same socket, served by the new worker: the old message and a new one arrive.
            var (exit, output) = await SmtpSourceTests.RunSmtpSourceAsync("-m", "1", "-S", "after the crash", "-f", "app@example.com",
                "-t", "ops@example.com", $"127.0.0.1:{failmail.SmtpPort}");
            Assert.True(exit == 0, output);
            await failmail.WaitUntilAsync(() => sink.Messages().Select(m => m.Message.TextBody ?? "").Aggregate("", string.Concat) is var text
                && text.Contains("before the crash", StringComparison.Ordinal) && text.Contains("after the crash", StringComparison.Ordinal),
                Patience, "both messages in digests");

            failmail.Signal(Signals.Term);
            Assert.Equal(0, await failmail.WaitForExitAsync(Patience));
            Assert.False(File.Exists(pidfile));
            Assert.Contains($"master: worker pid {second} exited with status 0", failmail.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var pid in workers)
            {
                try
                {
                    Signals.Send(pid, Signals.Kill);
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }
            }
            Directory.Delete(dir, recursive: true);
        }
    }

    private static int Worker(string log, int index) =>
        int.Parse(WorkerPids().Matches(log)[index].Groups[1].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"master: started worker pid (\d+)")]
    private static partial Regex WorkerPids();
}
