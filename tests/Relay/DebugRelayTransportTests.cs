using System.Text;
using Failmail.Maildir;
using Failmail.Relay;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Failmail.Tests.Relay.RelayTestKit;

namespace Failmail.Tests.Relay;

public class DebugRelayTransportTests
{
    [Fact]
    public async Task EachMessageIsPrintedAfterAnEnvelopeSeparator()
    {
        using var dir = new TempDir();
        var options = Options(dir, "debug");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
        var output = new MemoryStream();
        var store = new MemoryMessageStore();
        await using var relay = new RelayService(options, store, new DebugRelayTransport(output), NullLoggerFactory.Instance, time);
        var first = Digest("a@example.com", "first");
        var second = Digest("b@example.com", "second");
        await relay.SendAsync(first, CancellationToken.None).AsTask().WaitAsync(Patience);
        await relay.SendAsync(second, CancellationToken.None).AsTask().WaitAsync(Patience);

        await using (var running = Running.Start(relay))
        {
            await UntilAsync(relay, () => relay.DigestsSent == 2);
        }

        var expected = new MemoryStream();
        expected.Write(Encoding.UTF8.GetBytes("=== failmail relay: MAIL FROM:<failmail@test.example> RCPT TO: <a@example.com>\r\n"));
        expected.Write(Bytes(first.Message));
        expected.Write("\r\n"u8);
        expected.Write(Encoding.UTF8.GetBytes("=== failmail relay: MAIL FROM:<failmail@test.example> RCPT TO: <b@example.com>\r\n"));
        expected.Write(Bytes(second.Message));
        expected.Write("\r\n"u8);
        Assert.Equal(expected.ToArray(), output.ToArray());
        Assert.Empty(store.LoadPending());
        Assert.Equal(0, relay.RelayFailures);
    }
}
