using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Failmail.Batching;
using Failmail.Maildir;
using Failmail.Relay;
using Microsoft.Extensions.Logging;
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
    };

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

    // A port nobody listens on: bind port 0, note it, release it.
    public static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
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

internal sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "failmail-relay-" + Guid.NewGuid().ToString("N"));

    public TempDir() => Directory.CreateDirectory(Path);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

// Captures formatted log lines so tests can check levels, reasons and the absence of secrets.
internal sealed class ListLoggerFactory : ILoggerFactory, ILoggerProvider, ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Text)> Lines { get; } = new();

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue((logLevel, formatter(state, exception)));

    public void Dispose()
    {
    }
}

// The batcher side of --relay-all: records what it was handed.
internal sealed class CapturingSink : IMessageSink
{
    public List<ReceivedMessage> Accepted { get; } = [];

    public bool HasCapacity => true;

    public ValueTask AcceptAsync(ReceivedMessage message, CancellationToken cancellationToken)
    {
        Accepted.Add(message);
        return ValueTask.CompletedTask;
    }
}

// Runs the worker for the length of a test; disposing stops it and awaits its shutdown drain.
internal sealed class Running : IAsyncDisposable
{
    private readonly RelayService _relay;
    private readonly CancellationTokenSource _stop = new();

    private Running(RelayService relay)
    {
        _relay = relay;
        Task = relay.RunAsync(_stop.Token);
    }

    public Task Task { get; }

    public static Running Start(RelayService relay) => new(relay);

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WaitAsync(RelayTestKit.Patience);
    }

    public async ValueTask DisposeAsync()
    {
        if (!Task.IsCompleted)
        {
            await StopAsync();
        }
        _stop.Dispose();
    }
}

// A real MemoryMessageStore with a switch that makes reads fail unexpectedly.
internal sealed class FaultyReadStore : IMessageStore
{
    private readonly MemoryMessageStore _inner = new();

    public volatile bool FailReads;

    public IMessageDraft CreateDraft() => _inner.CreateDraft();

    public IReadOnlyList<ReceivedMessage> LoadPending() => _inner.LoadPending();

    public Stream OpenRead(string id) => FailReads ? throw new InvalidOperationException("store fault") : _inner.OpenRead(id);

    public void Remove(IEnumerable<string> ids) => _inner.Remove(ids);
}
