using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Channels;

namespace Failmail.Tests.Relay;

// A small capturing SMTP server on 127.0.0.1:0, speaking just enough of RFC 5321 for a
// MailKit client: EHLO with 8BITMIME, with a certificate either STARTTLS (RFC 3207, offered
// unless offerStartTls is false) or implicit TLS from the first byte (RFC 8314), and AUTH
// PLAIN/LOGIN (RFC 4954) and CRAM-MD5 (RFC 2195) advertised as the authMechanisms line
// says, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT. Replies to MAIL, RCPT,
// DATA and the end of data can be scripted (a whole reply line such as "451 4.3.0 later");
// null means success. Every message and every command count is recorded.
internal sealed class TestSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly X509Certificate2? _certificate;
    private readonly string? _user;
    private readonly string? _password;
    private readonly Channel<ReceivedMail> _received = Channel.CreateUnbounded<ReceivedMail>();
    private readonly ConcurrentBag<Task> _sessions = [];
    private readonly Task _accept;
    private int _connections;
    private int _rcptCommands;
    private int _quits;
    private int _noOps;
    private int _authFailures;
    private int _startTlsCommands;
    private int _tlsFailures;
    private int _nonce;

    public TestSmtpServer(X509Certificate2? certificate = null, string? user = null, string? password = null, string authMechanisms = "PLAIN LOGIN",
        bool implicitTls = false, bool offerStartTls = true, int port = 0)
    {
        _certificate = certificate;
        ImplicitTls = implicitTls && certificate is not null;
        OfferStartTls = offerStartTls && certificate is not null && !ImplicitTls;
        _user = user;
        _password = password;
        AuthMechanisms = authMechanisms;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        _accept = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Address => $"127.0.0.1:{Port}";

    public string AuthMechanisms { get; }

    public bool ImplicitTls { get; }

    public bool OfferStartTls { get; }

    public volatile string? MailReply;
    public volatile string? RcptReply;
    public volatile string? DataReply;
    public volatile string? EndOfDataReply;

    // Close the connection at DATA without a reply, like a crashing relay.
    public volatile bool DropAtData;

    // Close the connection after each accepted message, as a relay with a per-connection limit.
    public volatile bool CloseAfterMessage;

    public int Connections => Volatile.Read(ref _connections);
    public int RcptCommands => Volatile.Read(ref _rcptCommands);
    public int Quits => Volatile.Read(ref _quits);
    public int NoOps => Volatile.Read(ref _noOps);
    public int AuthFailures => Volatile.Read(ref _authFailures);
    public int StartTlsCommands => Volatile.Read(ref _startTlsCommands);

    // Handshakes that failed on the server side (the client rejected the certificate).
    public int TlsFailures => Volatile.Read(ref _tlsFailures);

    public List<ReceivedMail> Messages { get; } = [];

    // The next message accepted with 250 at the end of DATA.
    public async Task<ReceivedMail> ReceiveAsync()
    {
        var mail = await _received.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        return mail;
    }

    public bool TryReceive(out ReceivedMail? mail) => _received.Reader.TryRead(out mail);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accept.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        foreach (var session in _sessions)
        {
            try
            {
                await session.WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
            }
        }
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var n = Interlocked.Increment(ref _connections);
            _sessions.Add(Task.Run(() => ServeAsync(client, n)));
        }
    }

    private async Task ServeAsync(TcpClient tcp, int connection)
    {
        using var _ = tcp;
        var token = _stop.Token;
        Stream stream = tcp.GetStream();
        var reader = new LineReader(stream);
        var secure = false;
        string? authUser = null;
        string? from = null;
        var recipients = new List<string>();
        try
        {
            if (ImplicitTls)
            {
                Debug.Assert(_certificate is not null, "ImplicitTls needs a certificate");
                stream = await HandshakeAsync(stream, token);
                reader = new LineReader(stream);
                secure = true;
            }
            await SendAsync(stream, "220 test ESMTP", token);
            while (await reader.ReadLineAsync(token) is { } bytes)
            {
                var line = Encoding.UTF8.GetString(bytes);
                var verb = (line.Length >= 4 ? line[..4] : line).ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        var ehlo = new List<string> { "250-test" };
                        if (OfferStartTls && !secure)
                        {
                            ehlo.Add("250-STARTTLS");
                        }
                        if (_user is not null)
                        {
                            ehlo.Add("250-AUTH " + AuthMechanisms);
                        }
                        ehlo.Add("250 8BITMIME");
                        await SendAsync(stream, string.Join("\r\n", ehlo), token);
                        break;
                    case "HELO":
                        await SendAsync(stream, "250 test", token);
                        break;
                    case "STAR" when OfferStartTls && !secure:
                        Interlocked.Increment(ref _startTlsCommands);
                        await SendAsync(stream, "220 2.0.0 ready for TLS", token);
                        stream = await HandshakeAsync(stream, token);
                        reader = new LineReader(stream); // RFC 3207: discard everything from before TLS
                        secure = true;
                        authUser = null;
                        from = null;
                        recipients.Clear();
                        break;
                    case "AUTH" when _user is not null:
                        authUser = await AuthenticateAsync(line[4..].Trim(), stream, reader, token);
                        break;
                    case "MAIL":
                        if (_user is not null && authUser is null)
                        {
                            await SendAsync(stream, "530 5.7.0 authentication required", token);
                            break;
                        }
                        var mailReply = MailReply ?? "250 2.1.0 ok";
                        if (mailReply[0] == '2')
                        {
                            from = Path(line);
                            recipients.Clear();
                        }
                        await SendAsync(stream, mailReply, token);
                        break;
                    case "RCPT":
                        Interlocked.Increment(ref _rcptCommands);
                        var rcptReply = RcptReply ?? "250 2.1.5 ok";
                        if (rcptReply[0] == '2')
                        {
                            recipients.Add(Path(line));
                        }
                        await SendAsync(stream, rcptReply, token);
                        break;
                    case "DATA":
                        if (DropAtData)
                        {
                            return;
                        }
                        if (DataReply is { } dataReply)
                        {
                            await SendAsync(stream, dataReply, token);
                            break;
                        }
                        await SendAsync(stream, "354 go ahead", token);
                        var data = new MemoryStream();
                        while (await reader.ReadLineAsync(token) is { } dataLine)
                        {
                            if (dataLine is [(byte)'.'])
                            {
                                break;
                            }
                            var unstuffed = dataLine is [(byte)'.', ..] ? dataLine.AsSpan(1) : dataLine;
                            data.Write(unstuffed);
                            data.Write("\r\n"u8);
                        }
                        var endReply = EndOfDataReply ?? "250 2.0.0 queued";
                        if (endReply[0] == '2' && from is not null)
                        {
                            var mail = new ReceivedMail(from, [.. recipients], data.ToArray(), secure, authUser, connection);
                            lock (Messages)
                            {
                                Messages.Add(mail);
                            }
                            _received.Writer.TryWrite(mail);
                        }
                        from = null;
                        recipients.Clear();
                        await SendAsync(stream, endReply, token);
                        if (CloseAfterMessage)
                        {
                            return;
                        }
                        break;
                    case "RSET":
                        from = null;
                        recipients.Clear();
                        await SendAsync(stream, "250 2.0.0 ok", token);
                        break;
                    case "NOOP":
                        Interlocked.Increment(ref _noOps);
                        await SendAsync(stream, "250 2.0.0 ok", token);
                        break;
                    case "QUIT":
                        Interlocked.Increment(ref _quits);
                        await SendAsync(stream, "221 2.0.0 bye", token);
                        return;
                    default:
                        await SendAsync(stream, "502 5.5.2 not implemented", token);
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException
            or System.Security.Authentication.AuthenticationException)
        {
            // The client went away or the TLS handshake failed; the test looks at what arrived.
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }

    private async Task<Stream> HandshakeAsync(Stream stream, CancellationToken token)
    {
        var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, token);
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
        {
            Interlocked.Increment(ref _tlsFailures);
            await ssl.DisposeAsync();
            throw;
        }
        return ssl;
    }

    private async Task<string?> AuthenticateAsync(string arguments, Stream stream, LineReader reader, CancellationToken token)
    {
        var parts = arguments.Split(' ', 2);
        string user;
        string password;
        if (parts[0].Equals("PLAIN", StringComparison.OrdinalIgnoreCase))
        {
            var response = parts.Length > 1 ? parts[1] : await ChallengeAsync("", stream, reader, token);
            var fields = Encoding.UTF8.GetString(Convert.FromBase64String(response)).Split('\0');
            user = fields.Length == 3 ? fields[1] : "";
            password = fields.Length == 3 ? fields[2] : "";
        }
        else if (parts[0].Equals("LOGIN", StringComparison.OrdinalIgnoreCase))
        {
            var first = parts.Length > 1 ? parts[1] : await ChallengeAsync("VXNlcm5hbWU6", stream, reader, token);
            user = Encoding.UTF8.GetString(Convert.FromBase64String(first));
            password = Encoding.UTF8.GetString(Convert.FromBase64String(await ChallengeAsync("UGFzc3dvcmQ6", stream, reader, token)));
        }
        else if (parts[0].Equals("CRAM-MD5", StringComparison.OrdinalIgnoreCase) && AuthMechanisms.Contains("CRAM-MD5", StringComparison.Ordinal))
        {
            // RFC 2195: the client proves the password with HMAC-MD5 over our challenge.
            var challenge = $"<{Interlocked.Increment(ref _nonce)}.{Environment.ProcessId}@test>";
            var response = Encoding.UTF8.GetString(Convert.FromBase64String(
                await ChallengeAsync(Convert.ToBase64String(Encoding.ASCII.GetBytes(challenge)), stream, reader, token)));
            var space = response.LastIndexOf(' ');
            user = space < 0 ? "" : response[..space];
#pragma warning disable CA5351 // CRAM-MD5 is defined on MD5; this is the test peer of MailKit's client.
            var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACMD5.HashData(Encoding.UTF8.GetBytes(_password ?? ""), Encoding.ASCII.GetBytes(challenge)));
#pragma warning restore CA5351
            password = space >= 0 && response[(space + 1)..] == expected ? _password ?? "" : "\0wrong";
        }
        else
        {
            await SendAsync(stream, "504 5.5.4 unrecognized mechanism", token);
            return null;
        }
        if (user == _user && password == _password)
        {
            await SendAsync(stream, "235 2.7.0 authenticated", token);
            return user + " " + parts[0].ToUpperInvariant();
        }
        Interlocked.Increment(ref _authFailures);
        await SendAsync(stream, "535 5.7.8 authentication failed", token);
        return null;
    }

    private static async Task<string> ChallengeAsync(string challenge, Stream stream, LineReader reader, CancellationToken token)
    {
        await SendAsync(stream, "334 " + challenge, token);
        var line = await reader.ReadLineAsync(token) ?? throw new IOException("client went away during AUTH");
        return Encoding.ASCII.GetString(line);
    }

    // "MAIL FROM:<a@b> BODY=8BITMIME" → "a@b"; "<>" → "".
    private static string Path(string line)
    {
        var open = line.IndexOf('<', StringComparison.Ordinal);
        var close = line.IndexOf('>', open + 1);
        return line[(open + 1)..close];
    }

    private static async Task SendAsync(Stream stream, string reply, CancellationToken token)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(reply + "\r\n"), token);
        await stream.FlushAsync(token);
    }

    internal sealed record ReceivedMail(string From, IReadOnlyList<string> Recipients, byte[] Data, bool Secure, string? AuthUser, int Connection);

    // Reads CRLF-terminated lines as bytes (DATA must stay byte-exact).
    private sealed class LineReader(Stream stream)
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
    }
}
