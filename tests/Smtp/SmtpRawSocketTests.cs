using System.Net.Sockets;
using System.Text;
using Failmail.Maildir;
using Failmail.Smtp;
using Microsoft.Extensions.Logging.Abstractions;

namespace Failmail.Tests.Smtp;

// The listener against hostile or sloppy clients on raw sockets.
public class SmtpRawSocketTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private sealed class RawClient : IAsyncDisposable
    {
        private readonly TcpClient _tcp = new();
        private NetworkStream? _stream;

        public async Task ConnectAsync(int port)
        {
            await _tcp.ConnectAsync("127.0.0.1", port).WaitAsync(Wait);
            _stream = _tcp.GetStream();
        }

        private NetworkStream Stream => _stream ?? throw new InvalidOperationException("not connected");

        public async Task SendAsync(byte[] bytes) => await Stream.WriteAsync(bytes).AsTask().WaitAsync(Wait);

        public Task SendAsync(string text) => SendAsync(Encoding.ASCII.GetBytes(text));

        public async Task<string?> ReadLineAsync()
        {
            var sb = new StringBuilder();
            var one = new byte[1];
            while (true)
            {
                var n = await Stream.ReadAsync(one).AsTask().WaitAsync(Wait);
                if (n == 0)
                {
                    return sb.Length == 0 ? null : sb.ToString();
                }
                sb.Append((char)one[0]);
                if (sb.Length >= 2 && sb[^2] == '\r' && sb[^1] == '\n')
                {
                    return sb.ToString(0, sb.Length - 2);
                }
            }
        }

        public async Task<string?> ReadReplyAsync()
        {
            while (true)
            {
                var line = await ReadLineAsync();
                if (line is null || line.Length < 4 || line[3] != '-')
                {
                    return line;
                }
            }
        }

        public ValueTask DisposeAsync()
        {
            _tcp.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private static SmtpListener Start(FailmailOptions options, MemoryMessageStore store, RecordingSink sink)
    {
        var listener = new SmtpListener(options with { BindAddr = "127.0.0.1:0" }, store, sink, NullLoggerFactory.Instance, TimeProvider.System);
        listener.Start();
        return listener;
    }

    [Fact]
    public async Task GarbageGets500AndTheSessionStaysUsable()
    {
        var store = new MemoryMessageStore();
        await using var listener = Start(new FailmailOptions(), store, new RecordingSink());
        await using var client = new RawClient();
        await client.ConnectAsync(listener.LocalEndPoint.Port);
        Assert.StartsWith("220 ", await client.ReadLineAsync());
        await client.SendAsync([0, 0xFF, 0xFE, (byte)'\r', (byte)'\n', 0x16, 0x03, 0x01, (byte)'\r', (byte)'\n']);
        Assert.StartsWith("500 ", await client.ReadLineAsync());
        Assert.StartsWith("500 ", await client.ReadLineAsync());
        await client.SendAsync("NOOP\r\n");
        Assert.Equal("250 2.0.0 OK", await client.ReadLineAsync());
    }

    [Fact]
    public async Task AHugeLineIsRefusedOnceAndNotBuffered()
    {
        await using var listener = Start(new FailmailOptions(), new MemoryMessageStore(), new RecordingSink());
        await using var client = new RawClient();
        await client.ConnectAsync(listener.LocalEndPoint.Port);
        Assert.StartsWith("220 ", await client.ReadLineAsync());
        var chunk = Encoding.ASCII.GetBytes(new string('X', 64 * 1024));
        for (var i = 0; i < 32; i++)
        {
            await client.SendAsync(chunk);
        }
        await client.SendAsync("\r\nNOOP\r\n");
        Assert.Equal("500 5.5.2 Line too long", await client.ReadLineAsync());
        Assert.Equal("250 2.0.0 OK", await client.ReadLineAsync());
    }

    [Fact]
    public async Task AnOversizedMessageIs552AndNotStored()
    {
        var store = new MemoryMessageStore();
        var sink = new RecordingSink();
        await using var listener = Start(new FailmailOptions { MaxMessageSize = 1000 }, store, sink);
        await using var client = new RawClient();
        await client.ConnectAsync(listener.LocalEndPoint.Port);
        Assert.StartsWith("220 ", await client.ReadLineAsync());
        await client.SendAsync("EHLO raw\r\n");
        Assert.Equal("250 HELP", await client.ReadReplyAsync());
        await client.SendAsync("MAIL FROM:<a@b.c>\r\nRCPT TO:<x@b.c>\r\nDATA\r\n");
        Assert.StartsWith("250", await client.ReadLineAsync());
        Assert.StartsWith("250", await client.ReadLineAsync());
        Assert.StartsWith("354", await client.ReadLineAsync());
        var line = new string('y', 998) + "\r\n";
        for (var i = 0; i < 100; i++)
        {
            await client.SendAsync(line);
        }
        await client.SendAsync(".\r\nQUIT\r\n");
        Assert.Equal("552 5.3.4 Message size exceeds fixed maximum message size", await client.ReadLineAsync());
        Assert.StartsWith("221", await client.ReadLineAsync());
        Assert.Empty(store.LoadPending());
        Assert.Empty(sink.Messages);
        Assert.Equal(1, listener.MessagesRejected);
    }

    [Fact]
    public async Task AConnectionBeyondTheLimitGets421AndTheOthersCarryOn()
    {
        await using var listener = Start(new FailmailOptions { MaxConnections = 2 }, new MemoryMessageStore(), new RecordingSink());
        var port = listener.LocalEndPoint.Port;
        await using var first = new RawClient();
        await using var second = new RawClient();
        await using var third = new RawClient();
        await first.ConnectAsync(port);
        Assert.StartsWith("220 ", await first.ReadLineAsync());
        await second.ConnectAsync(port);
        Assert.StartsWith("220 ", await second.ReadLineAsync());
        Assert.Equal(2, listener.OpenSessions);
        await third.ConnectAsync(port);
        Assert.Equal("421 4.7.0 Too many connections, try again later", await third.ReadLineAsync());
        Assert.Null(await third.ReadLineAsync());
        await first.SendAsync("NOOP\r\nQUIT\r\n");
        Assert.Equal("250 2.0.0 OK", await first.ReadLineAsync());
        Assert.StartsWith("221", await first.ReadLineAsync());
        Assert.Null(await first.ReadLineAsync());
        // A slot is free again.
        for (var attempt = 0; ; attempt++)
        {
            await using var probe = new RawClient();
            await probe.ConnectAsync(port);
            var greeting = await probe.ReadLineAsync();
            if (greeting?.StartsWith("220 ", StringComparison.Ordinal) == true)
            {
                break;
            }
            // The first session's slot is released just after its socket closes.
            Assert.True(attempt < 100, "no slot freed");
            await Task.Yield();
        }
    }

    [Fact]
    public async Task StopTellsIdleSessions421AndWaitsForThem()
    {
        await using var listener = Start(new FailmailOptions(), new MemoryMessageStore(), new RecordingSink());
        await using var client = new RawClient();
        await client.ConnectAsync(listener.LocalEndPoint.Port);
        Assert.StartsWith("220 ", await client.ReadLineAsync());
        Assert.Equal(1, listener.OpenSessions);
        await listener.StopAsync(TimeSpan.FromSeconds(5)).WaitAsync(Wait);
        Assert.Equal("421 4.3.2 Shutting down", await client.ReadLineAsync());
        Assert.Null(await client.ReadLineAsync());
        Assert.Equal(0, listener.OpenSessions);
    }

    [Fact]
    public async Task StopAbortsSessionsStillInDataAfterTheDrainTimeout()
    {
        await using var listener = Start(new FailmailOptions(), new MemoryMessageStore(), new RecordingSink());
        await using var client = new RawClient();
        await client.ConnectAsync(listener.LocalEndPoint.Port);
        Assert.StartsWith("220 ", await client.ReadLineAsync());
        await client.SendAsync("MAIL FROM:<a@b.c>\r\nRCPT TO:<x@b.c>\r\nDATA\r\n");
        await client.ReadLineAsync();
        await client.ReadLineAsync();
        Assert.StartsWith("354", await client.ReadLineAsync());
        await listener.StopAsync(TimeSpan.FromMilliseconds(100)).WaitAsync(Wait);
        Assert.Null(await client.ReadLineAsync());
        Assert.Equal(0, listener.OpenSessions);
    }

    [Fact]
    public async Task AnInheritedListeningSocketIsUsedAsIs()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        socket.Listen(16);
        // BindAddr points elsewhere on purpose: with a socket given, it is not used.
        await using var listener = new SmtpListener(
            new FailmailOptions { BindAddr = "203.0.113.1:1" }, new MemoryMessageStore(), new RecordingSink(), NullLoggerFactory.Instance, TimeProvider.System);
        listener.Start(socket);
        Assert.Same(socket, listener.ListenSocket);
        Assert.Equal(((System.Net.IPEndPoint)socket.LocalEndPoint!).Port, listener.LocalEndPoint.Port);
        await using var client = new RawClient();
        await client.ConnectAsync(listener.LocalEndPoint.Port);
        Assert.StartsWith("220 ", await client.ReadLineAsync());
    }

    [Fact]
    public async Task AFailedTlsHandshakeClosesOnlyThatConnection()
    {
        using var cert = new TestCertificate();
        await using var listener = Start(new FailmailOptions { TlsCert = cert.CertPath, TlsKey = cert.KeyPath }, new MemoryMessageStore(), new RecordingSink());
        var port = listener.LocalEndPoint.Port;
        await using var bystander = new RawClient();
        await bystander.ConnectAsync(port);
        Assert.StartsWith("220 ", await bystander.ReadLineAsync());

        await using var broken = new RawClient();
        await broken.ConnectAsync(port);
        Assert.StartsWith("220 ", await broken.ReadLineAsync());
        await broken.SendAsync("STARTTLS\r\n");
        Assert.Equal("220 2.0.0 Ready to start TLS", await broken.ReadLineAsync());
        await broken.SendAsync("this is not a TLS ClientHello\r\n");
        Assert.Null(await broken.ReadLineAsync());

        await bystander.SendAsync("NOOP\r\n");
        Assert.Equal("250 2.0.0 OK", await bystander.ReadLineAsync());
    }

    [Fact]
    public async Task ImplicitTlsRefusesAPlaintextClientAndServesTheNext()
    {
        using var cert = new TestCertificate();
        await using var listener = Start(new FailmailOptions { TlsCert = cert.CertPath, TlsKey = cert.KeyPath, Ssl = true }, new MemoryMessageStore(), new RecordingSink());
        await using var plaintext = new RawClient();
        await plaintext.ConnectAsync(listener.LocalEndPoint.Port);
        await plaintext.SendAsync("EHLO plain\r\n");
        Assert.Null(await plaintext.ReadLineAsync());

        using var client = new MailKit.Net.Smtp.SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };
        await client.ConnectAsync("127.0.0.1", listener.LocalEndPoint.Port, MailKit.Security.SecureSocketOptions.SslOnConnect).WaitAsync(Wait);
        Assert.True(client.IsSecure);
        Assert.False(client.Capabilities.HasFlag(MailKit.Net.Smtp.SmtpCapabilities.StartTLS));
        await client.DisconnectAsync(true).WaitAsync(Wait);
    }

    [Fact]
    public void SslWithoutACertificateIsRefused() =>
        Assert.Throws<ArgumentException>(() => new SmtpListener(
            new FailmailOptions { Ssl = true }, new MemoryMessageStore(), new RecordingSink(), NullLoggerFactory.Instance, TimeProvider.System));
}
