using System.Net.Sockets;
using System.Text;
using Failmail.Maildir;
using Failmail.Smtp;
using Microsoft.Extensions.Logging.Abstractions;

namespace Failmail.Tests.Smtp;

// A connection flood beyond --max-connections over real sockets: every extra connection is
// told 421 and closed, the sessions already open keep working, nothing leaks a slot.
public class SmtpConnectionFloodTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static async Task<string> ReadAllAsync(NetworkStream stream)
    {
        var buffer = new byte[1024];
        var text = new StringBuilder();
        int n;
        while ((n = await stream.ReadAsync(buffer).AsTask().WaitAsync(Wait)) > 0)
        {
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        return text.ToString();
    }

    private static async Task<string> ReadLineAsync(NetworkStream stream)
    {
        var sb = new StringBuilder();
        var one = new byte[1];
        while (!sb.ToString().EndsWith("\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one).AsTask().WaitAsync(Wait) == 0)
            {
                break;
            }
            sb.Append((char)one[0]);
        }
        return sb.ToString().TrimEnd('\r', '\n');
    }

    [Fact]
    public async Task FiftyConnectionsBeyondTheLimitGet421AndAreClosed()
    {
        const int limit = 5;
        await using var listener = new SmtpListener(new FailmailOptions { BindAddr = "127.0.0.1:0", MaxConnections = limit },
            new MemoryMessageStore(), new RecordingSink(), NullLoggerFactory.Instance, TimeProvider.System);
        listener.Start();
        var port = listener.LocalEndPoint.Port;

        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < limit; i++)
            {
                var client = new TcpClient();
                held.Add(client);
                await client.ConnectAsync("127.0.0.1", port).WaitAsync(Wait);
                Assert.StartsWith("220 ", await ReadLineAsync(client.GetStream()), StringComparison.Ordinal);
            }

            var flood = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port).WaitAsync(Wait);
                // Everything the server says before closing: one 421 and nothing else.
                return await ReadAllAsync(client.GetStream());
            })).WaitAsync(Wait);

            Assert.All(flood, reply => Assert.Equal("421 4.7.0 Too many connections, try again later\r\n", reply));
            Assert.Equal(limit, listener.OpenSessions);
            foreach (var client in held)
            {
                var stream = client.GetStream();
                await stream.WriteAsync("NOOP\r\n"u8.ToArray()).AsTask().WaitAsync(Wait);
                Assert.Equal("250 2.0.0 OK", await ReadLineAsync(stream));
            }
        }
        finally
        {
            foreach (var client in held)
            {
                client.Dispose();
            }
        }
    }
}
