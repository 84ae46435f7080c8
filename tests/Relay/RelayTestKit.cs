using Failmail.Batching;
using Failmail.Maildir;
using Failmail.Relay;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;

namespace Failmail.Tests.Relay;

internal static class RelayTestKit
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    public static FailmailOptions Options(TempDir dir, string relayAddr) => new()
    {
        RelayAddr = relayAddr,
        From = "failmail@test.example",
        FailDir = Path.Combine(dir.Path, "failed"),
        RetryMin = TimeSpan.FromSeconds(30),
        RetryMax = TimeSpan.FromMinutes(4),
        QueueLifetime = TimeSpan.FromHours(1),
        RelayTimeout = TimeSpan.FromSeconds(5),
        ShutdownTimeout = TimeSpan.FromSeconds(5),
        // The queue poll's timer would race a test's FakeTimeProvider.Advance (the worker
        // wakes for it and arms its next timer after the test moved on, STYLE pitfall 9):
        // tests that are not about the poll keep it out of their window; poll tests set it.
        Poll = TimeSpan.FromHours(1),
    };

    public static RelayService NewRelay(FailmailOptions options, IMessageStore store, TimeProvider time, ILoggerFactory? logs = null) =>
        new(options, store, new SmtpRelayTransport(options, time), logs ?? NullLoggerFactory.Instance, time);

    // A relay worker over a real SmtpRelayTransport with one digest for ops@example.com queued.
    public static async Task<(RelayService Relay, Running Running, ListLoggerFactory Logs)> StartRelayAsync(FailmailOptions options)
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
        var logs = new ListLoggerFactory();
        var relay = new RelayService(options, new MemoryMessageStore(), new SmtpRelayTransport(options, time, logs.CreateLogger("Failmail.Relay")), logs, time);
        var running = Running.Start(relay);
        await relay.SendAsync(Digest("ops@example.com", "x"), CancellationToken.None).AsTask().WaitAsync(Patience);
        return (relay, running, logs);
    }

    // One send straight through a transport: the RelayException (or null on success).
    public static async Task<RelayException?> TrySendAsync(FailmailOptions options)
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
        await using var transport = new SmtpRelayTransport(options, time);
        try
        {
            await transport.SendAsync(Digest("ops@example.com", "x").Message, "failmail@test.example", ["ops@example.com"], CancellationToken.None)
                .AsTask().WaitAsync(Patience);
            return null;
        }
        catch (RelayException e)
        {
            return e;
        }
    }

    public static Digest Digest(string recipient, string subject)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("failmail@test.example"));
        message.To.Add(MailboxAddress.Parse(recipient));
        message.Subject = subject;
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId("test.example");
        message.Date = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
        message.Body = new TextPart("plain") { Text = $"{subject}\r\n.leading dot\r\nnon-ascii: grüße\r\n" };
        return new Digest("batch", recipient, message, ["m1"]);
    }

    public static byte[] Bytes(MimeMessage message)
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        using var buffer = new MemoryStream();
        message.WriteTo(format, buffer);
        return buffer.ToArray();
    }

    // Lets the worker run until it sleeps with the condition true. The worker's state only
    // changes while it runs, and it always ends by going to sleep, so this needs no clock.
    public static async Task UntilAsync(RelayService relay, Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var waits = relay.WaitCount;
            if (relay.IsWaiting && condition())
            {
                return;
            }
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException("the relay worker never reached the expected state");
            }
            await relay.WaitForWaitAsync(waits + 1).WaitAsync(remaining);
        }
    }

    public static string[] FailDirFiles(FailmailOptions options, string sub = "new") =>
        Directory.Exists(Path.Combine(options.FailDir, sub)) ? Directory.GetFiles(Path.Combine(options.FailDir, sub)) : [];
}
