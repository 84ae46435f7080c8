using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace Failmail.Outputs.Irc;

// One TCP (or TLS) connection to an IRC server: writes lines, and a reader loop that answers
// PING at once (so an idle kept connection stays up) and passes every other line to whoever
// is waiting for a reply. Lines from a hostile server are bounded; what nobody waits for is
// dropped, oldest first.
internal sealed class IrcSession : IAsyncDisposable
{
    // A server line is at most 512 bytes, 8191 with IRCv3 tags; longer ones are skipped.
    private const int MaxServerLine = 8192;

    private readonly TcpClient _client;
    private readonly Stream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Channel<IrcMessage> _inbox = Channel.CreateBounded<IrcMessage>(new BoundedChannelOptions(256)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
        SingleWriter = true,
    });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;

    private IrcSession(TcpClient client, Stream stream)
    {
        _client = client;
        _stream = stream;
        _reader = Task.Run(ReadLoopAsync);
    }

    // False once the server closed the connection or a read or write failed.
    public bool IsOpen => !_reader.IsCompleted;

    public static async Task<IrcSession> OpenAsync(IrcTarget target, RemoteCertificateValidationCallback? validate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(target.Host, target.Port, cancellationToken).ConfigureAwait(false);
            Stream stream = client.GetStream();
            if (target.Tls)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false, validate);
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = target.Host }, cancellationToken).ConfigureAwait(false);
                stream = tls;
            }
            return new IrcSession(client, stream);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public async Task WriteAsync(string line, CancellationToken cancellationToken)
    {
        // The only guard against a CR or LF in what we send; callers clean text with IrcText.
        if (line.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
        {
            throw new ArgumentException("an IRC line must not hold CR, LF or NUL", nameof(line));
        }
        var bytes = Encoding.UTF8.GetBytes(line + "\r\n");
        if (bytes.Length > IrcText.MaxLine)
        {
            throw new ArgumentException($"an IRC line is at most {IrcText.MaxLine} bytes", nameof(line));
        }
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    // The next server line other than PING; IOException when the connection ended.
    public async Task<IrcMessage> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _inbox.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e)
        {
            throw new IOException("the IRC server closed the connection", e.InnerException ?? e);
        }
    }

    private async Task ReadLoopAsync()
    {
        Exception? failure = null;
        try
        {
            var buffer = new byte[MaxServerLine];
            var filled = 0;
            var skipping = false;
            while (true)
            {
                var read = await _stream.ReadAsync(buffer.AsMemory(filled), _stop.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                filled += read;
                var start = 0;
                int newline;
                while ((newline = Array.IndexOf(buffer, (byte)'\n', start, filled - start)) >= 0)
                {
                    if (!skipping)
                    {
                        await DispatchAsync(Encoding.UTF8.GetString(buffer, start, newline - start)).ConfigureAwait(false);
                    }
                    skipping = false;
                    start = newline + 1;
                }
                if (start == 0 && filled == buffer.Length)
                {
                    // A line longer than any server may send: drop it up to its end.
                    skipping = true;
                    filled = 0;
                    continue;
                }
                Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                filled -= start;
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
            failure = e;
        }
        finally
        {
            _inbox.Writer.TryComplete(failure is null ? null : new IOException(failure.Message, failure));
        }
    }

    private async Task DispatchAsync(string line)
    {
        if (!IrcMessage.TryParse(line, out var message))
        {
            return;
        }
        if (message.Command == "PING")
        {
            // RFC 2812 §3.7.2: answer with the same token, or the server drops us.
            var token = IrcText.Split(message.Last, 400)[0];
            await WriteAsync(token.Length > 0 ? "PONG :" + token : "PONG", _stop.Token).ConfigureAwait(false);
            return;
        }
        _inbox.Writer.TryWrite(message);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // Closing a broken connection.
        }
        _client.Dispose();
        await _reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        _writeLock.Dispose();
    }
}
