using System.Net.Sockets;
using System.Text;

namespace Failmail.Tests.EndToEnd;

// One SMTP session over a raw socket, so the bytes are exactly the test's (MailKit would
// refuse or repair them). Every read and write is bounded.
internal sealed class RawSmtpSession : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly TcpClient _tcp = new();
    private NetworkStream? _stream;
    private StreamReader? _reader;

    public static async Task<RawSmtpSession> ConnectAsync(int port)
    {
        var session = new RawSmtpSession();
        await session._tcp.ConnectAsync("127.0.0.1", port).WaitAsync(Patience);
        session._stream = session._tcp.GetStream();
        session._reader = new StreamReader(session._stream, Encoding.Latin1);
        var greeting = await session.ReplyAsync();
        Assert.StartsWith("220", greeting, StringComparison.Ordinal);
        return session;
    }

    // Sends one line (CRLF added) and returns the last line of the reply.
    public async Task<string> CommandAsync(string line)
    {
        await WriteAsync(Encoding.UTF8.GetBytes(line + "\r\n"));
        return await ReplyAsync();
    }

    public async Task ExpectAsync(string line, string code)
    {
        var reply = await CommandAsync(line);
        Assert.True(reply.StartsWith(code, StringComparison.Ordinal), $"{line[..Math.Min(40, line.Length)]}: {reply}");
    }

    // DATA, the message (dot-stuffed here), the final dot; returns the reply to the dot.
    public Task<string> DataAsync(string message) => DataAsync(Encoding.UTF8.GetBytes(message));

    // Byte-exact: a '.' at every line start is doubled (RFC 5321 §4.5.2), bare CR and LF and
    // all are sent as they are, and the message ends with CRLF.CRLF.
    public async Task<string> DataAsync(byte[] message)
    {
        await ExpectAsync("DATA", "354");
        var stuffed = new MemoryStream(message.Length + 64);
        var atLineStart = true;
        foreach (var b in message)
        {
            if (atLineStart && b == (byte)'.')
            {
                stuffed.WriteByte((byte)'.');
            }
            stuffed.WriteByte(b);
            atLineStart = b == (byte)'\n';
        }
        stuffed.Write(atLineStart ? ".\r\n"u8 : "\r\n.\r\n"u8);
        await WriteAsync(stuffed.ToArray());
        return await ReplyAsync();
    }

    public async Task WriteAsync(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(_stream);
        await _stream.WriteAsync(bytes).AsTask().WaitAsync(Patience);
    }

    public async Task<string> ReplyAsync()
    {
        ArgumentNullException.ThrowIfNull(_reader);
        while (true)
        {
            var line = await _reader.ReadLineAsync().WaitAsync(Patience) ?? throw new EndOfStreamException();
            if (line.Length < 4 || line[3] != '-')
            {
                return line;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader?.Dispose();
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
