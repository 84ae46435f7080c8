using System.Text;
using Failmail.Maildir;
using Failmail.Relay;
using Failmail.Tests.EndToEnd;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Failmail.Tests.Relay.RelayTestKit;

namespace Failmail.Tests.Relay;

// The worker against Postfix's smtp-sink, a real SMTP server (an external program).
public class RelayServiceSmtpSinkTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    // smtp-sink writes LF line ends and one blank line after each message.
    private static string Lf(byte[] message) => Encoding.UTF8.GetString(message).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";

    [Fact]
    [Trait("Category", "EndToEnd")]
    public async Task SmtpSinkReceivesDigestsWithEnvelopeAndBytes()
    {
        using var dir = new TempDir();
        using var sink = await SmtpSink.StartAsync(Path.Combine(dir.Path, "dump")).WaitAsync(Patience);
        var options = Options(dir, sink.Address);
        var time = new FakeTimeProvider(Start);
        await using var relay = new RelayService(options, new MemoryMessageStore(), new SmtpRelayTransport(options, time), NullLoggerFactory.Instance, time);
        await using var running = Running.Start(relay);
        var first = Digest("a@example.com", "first");
        var second = Digest("b@example.com", "second");

        await relay.SendAsync(first, CancellationToken.None).AsTask().WaitAsync(Patience);
        await relay.SendAsync(second, CancellationToken.None).AsTask().WaitAsync(Patience);
        await UntilAsync(relay, () => relay.DigestsSent == 2);

        var dumps = sink.Dumps();
        Assert.Equal(2, dumps.Length);
        var forA = Assert.Single(dumps, d => d.Contains("X-Rcpt-Args: <a@example.com>\n", StringComparison.Ordinal));
        var forB = Assert.Single(dumps, d => d.Contains("X-Rcpt-Args: <b@example.com>\n", StringComparison.Ordinal));
        Assert.Contains("X-Mail-Args: <failmail@test.example>", forA, StringComparison.Ordinal);
        Assert.EndsWith(Lf(Bytes(first.Message)), forA, StringComparison.Ordinal);
        Assert.EndsWith(Lf(Bytes(second.Message)), forB, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "EndToEnd")]
    public async Task SmtpSinkSoftRejectIsRetriedAndDeliveredOnceItRecovers()
    {
        using var dir = new TempDir();
        var dump = Path.Combine(dir.Path, "dump");
        var sink = await SmtpSink.StartAsync(dump, 0, "-r", "RCPT").WaitAsync(Patience);
        try
        {
            var options = Options(dir, sink.Address);
            var time = new FakeTimeProvider(Start);
            await using var relay = new RelayService(options, new MemoryMessageStore(), new SmtpRelayTransport(options, time), NullLoggerFactory.Instance, time);
            await using var running = Running.Start(relay);

            await relay.SendAsync(Digest("a@example.com", "x"), CancellationToken.None).AsTask().WaitAsync(Patience);
            await UntilAsync(relay, () => relay.Retries == 1);
            Assert.Equal(1, relay.QueueLength);
            Assert.Empty(sink.Dumps());

            var port = sink.Port;
            sink.Dispose();
            sink = await SmtpSink.StartAsync(dump, port).WaitAsync(Patience);
            time.Advance(options.RetryMin);
            await UntilAsync(relay, () => relay.DigestsSent == 1);
            Assert.Single(sink.Dumps());
            Assert.Equal(0, relay.FailDirWrites);
        }
        finally
        {
            sink.Dispose();
        }
    }

    [Fact]
    [Trait("Category", "EndToEnd")]
    public async Task SmtpSinkHardRejectGoesToTheFailDirOnce()
    {
        using var dir = new TempDir();
        using var sink = await SmtpSink.StartAsync(Path.Combine(dir.Path, "dump"), 0, "-f", "RCPT").WaitAsync(Patience);
        var options = Options(dir, sink.Address);
        var time = new FakeTimeProvider(Start);
        var store = new MemoryMessageStore();
        await using var relay = new RelayService(options, store, new SmtpRelayTransport(options, time), NullLoggerFactory.Instance, time);
        await using var running = Running.Start(relay);
        var digest = Digest("a@example.com", "x");

        await relay.SendAsync(digest, CancellationToken.None).AsTask().WaitAsync(Patience);
        await UntilAsync(relay, () => relay.FailDirWrites == 1);

        var file = Assert.Single(FailDirFiles(options));
        Assert.Equal(Bytes(digest.Message), await File.ReadAllBytesAsync(file).WaitAsync(Patience));
        Assert.Empty(store.LoadPending());
        Assert.Empty(sink.Dumps());
    }
}
