namespace Failmail.Tests.EndToEnd;

// The listening sockets handed to failmail with --socket-fd reach only the process they were
// bound for, even when several start at once, and the test process keeps no copy.
[Trait("Category", "EndToEnd")]
public sealed class ChildProcessesTests
{
    [Fact]
    public async Task ConcurrentStartsHandEachSocketToItsOwnProcessOnly()
    {
        var dir = TestPaths.NewTempDir();
        var started = new List<FailmailProcess>();
        SmtpSink? sink = null;
        try
        {
            var starts = Enumerable.Range(0, 4).Select(_ => Task.Run(() => FailmailProcess.StartServingAsync(null, "--relay-addr", "debug", "--bind-http", ""))).ToList();
            var sinkStart = Task.Run(() => SmtpSink.StartAsync(Path.Combine(dir, "sink")));
            foreach (var start in starts)
            {
                try
                {
                    started.Add(await start.WaitAsync(TimeSpan.FromSeconds(30)));
                }
                catch (InvalidOperationException)
                {
                    // reported by the assertion below, after the others are stopped
                }
            }
            sink = await sinkStart.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(4, started.Count);

            foreach (var failmail in started)
            {
                Assert.True(FreePort.ListensOn(failmail.Pid, failmail.SmtpPort), $"failmail {failmail.Pid} does not hold its socket");
                Assert.False(FreePort.ListensOn(Environment.ProcessId, failmail.SmtpPort), "the test process kept its copy");
                Assert.False(FreePort.ListensOn(sink.Pid, failmail.SmtpPort), "smtp-sink inherited a failmail socket");
                foreach (var other in started.Where(o => o != failmail))
                {
                    Assert.False(FreePort.ListensOn(other.Pid, failmail.SmtpPort), $"failmail {other.Pid} inherited the socket of {failmail.Pid}");
                }
            }
        }
        finally
        {
            foreach (var failmail in started)
            {
                await failmail.DisposeAsync();
            }
            if (sink is not null)
            {
                await sink.DisposeAsync();
            }
            Directory.Delete(dir, recursive: true);
        }
    }
}
