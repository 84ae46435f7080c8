using Failmail.Maildir;
using Failmail.Relay;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static Failmail.Tests.Relay.RelayTestKit;

namespace Failmail.Tests.Relay;

// A fail-dir that cannot be written never loses the digest: it stays queued, an Error line
// says why, and it lands in the fail-dir once that works again.
public class RelayFailDirTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task UnwritableFailDirKeepsTheDigestQueuedUntilItRecovers()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer { RcptReply = "550 5.1.1 no such user" };
        var options = Options(dir, server.Address);
        var time = new FakeTimeProvider(Start);
        var logs = new ListLoggerFactory();
        var store = new MemoryMessageStore();
        await using var relay = new RelayService(options, store, new SmtpRelayTransport(options, time), logs, time) { IdleTimeout = TimeSpan.FromDays(1) };
        // The fail-dir exists (the constructor made it) but new/ is now a regular file.
        var failNew = Path.Combine(options.FailDir, "new");
        Directory.Delete(failNew);
        await File.WriteAllTextAsync(failNew, "in the way");
        await using var running = Running.Start(relay);

        await relay.SendAsync(Digest("ops@example.com", "x"), CancellationToken.None).AsTask().WaitAsync(Patience);
        await UntilAsync(relay, () => relay.RelayFailures == 1);
        Assert.Equal(1, relay.QueueLength);
        Assert.Single(store.LoadPending());
        Assert.Equal(0, relay.FailDirWrites);
        Assert.Empty(Directory.GetFiles(Path.Combine(options.FailDir, "tmp")));
        Assert.Contains(logs.Lines, l => l.Level == LogLevel.Error && l.Text.Contains("keeping it queued", StringComparison.Ordinal));

        File.Delete(failNew);
        Directory.CreateDirectory(failNew);
        time.Advance(options.RetryMin);
        await UntilAsync(relay, () => relay.FailDirWrites == 1);
        Assert.Single(FailDirFiles(options));
        Assert.Equal(0, relay.QueueLength);
        Assert.Empty(store.LoadPending());
    }
}
