using System.Text;
using Failmail.Maildir;
using Failmail.Relay;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Failmail.Tests.Relay.RelayTestKit;

namespace Failmail.Tests.Relay;

public class RelayAllSinkTests
{
    // Odd but valid formatting that a re-serializing relay would normalize: lower-case and
    // folded headers, a quoted-printable part, an 8bit part and a header without a space.
    private const string Original =
        "from: Cron Daemon <root@db1.example>\r\n" +
        "to: ops@example.com,\r\n" +
        "\tdev@example.com\r\n" +
        "Subject: =?utf-8?q?backup_fehlgeschlagen?=\r\n" +
        "X-Odd:no-space\r\n" +
        "Message-ID: <cron.1@db1.example>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: multipart/mixed; boundary=\"b1\"\r\n" +
        "\r\n" +
        "preamble\r\n" +
        "--b1\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "Content-Transfer-Encoding: 8bit\r\n" +
        "\r\n" +
        "Sicherung fehlgeschlagen: Größe überschritten\r\n" +
        ".a line with a leading dot\r\n" +
        "--b1\r\n" +
        "Content-Type: text/plain; charset=us-ascii\r\n" +
        "Content-Transfer-Encoding: quoted-printable\r\n" +
        "\r\n" +
        "soft=\r\n" +
        "break\r\n" +
        "--b1--\r\n";

    [Fact]
    public async Task OriginalIsRelayedUnchangedWithItsEnvelopeAndStillBatched()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer();
        var options = Options(dir, server.Address) with { RelayAll = true };
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
        var incoming = new MemoryMessageStore();
        var bytes = Encoding.UTF8.GetBytes(Original);
        ReceivedMessage received;
        await using (var draft = incoming.CreateDraft())
        {
            draft.Write(bytes);
            received = await draft.CommitAsync(new Envelope("", ["ops@example.com", "dev@example.com"], time.GetUtcNow(), "127.0.0.1"), CancellationToken.None).AsTask().WaitAsync(Patience);
        }
        var outgoing = new MemoryMessageStore();
        await using var relay = new RelayService(options, outgoing, new SmtpRelayTransport(options, time), NullLoggerFactory.Instance, time);
        var batcher = new CapturingSink();
        var sink = new RelayAllSink(batcher, incoming, relay);
        await using var running = Running.Start(relay);

        await sink.AcceptAsync(received, CancellationToken.None).AsTask().WaitAsync(Patience);

        var mail = await server.ReceiveAsync();
        Assert.Equal("", mail.From);
        Assert.Equal(["ops@example.com", "dev@example.com"], mail.Recipients);
        Assert.Equal(Original, Encoding.UTF8.GetString(mail.Data));
        Assert.Equal([received], batcher.Accepted);
        // The incoming copy is the batcher's to remove; relaying leaves it alone.
        Assert.Single(incoming.LoadPending());
        await UntilAsync(relay, () => relay.DigestsSent == 1);
        Assert.Empty(outgoing.LoadPending());
    }
}
