using System.Text;

namespace Failmail.Tests.Relay;

// TestSmtpServer's side of one connection: reads CRLF-terminated lines as bytes (DATA must
// stay byte-exact) and writes replies. Make a new one after a TLS handshake, so nothing
// buffered before it survives (RFC 3207).
internal sealed class TestSmtpLines(Stream stream)
{
    private readonly byte[] _buffer = new byte[8192];
    private int _start;
    private int _end;

    public async Task<byte[]?> ReadLineAsync(CancellationToken token)
    {
        var line = new MemoryStream();
        while (true)
        {
            for (var i = _start; i < _end; i++)
            {
                if (_buffer[i] == '\n')
                {
                    line.Write(_buffer, _start, i - _start);
                    _start = i + 1;
                    var bytes = line.ToArray();
                    return bytes is [.., (byte)'\r'] ? bytes[..^1] : bytes;
                }
            }
            line.Write(_buffer, _start, _end - _start);
            _start = _end = 0;
            var read = await stream.ReadAsync(_buffer, token);
            if (read == 0)
            {
                return null;
            }
            _end = read;
        }
    }

    // The message after 354, up to the lone dot, with dot-unstuffing and CRLF line ends.
    public async Task<byte[]> ReadDataAsync(CancellationToken token)
    {
        var data = new MemoryStream();
        while (await ReadLineAsync(token) is { } dataLine)
        {
            if (dataLine is [(byte)'.'])
            {
                break;
            }
            var unstuffed = dataLine is [(byte)'.', ..] ? dataLine.AsSpan(1) : dataLine;
            data.Write(unstuffed);
            data.Write("\r\n"u8);
        }
        return data.ToArray();
    }

    public async Task ReplyAsync(string reply, CancellationToken token)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(reply + "\r\n"), token);
        await stream.FlushAsync(token);
    }
}
