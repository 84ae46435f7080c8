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
// (TestSmtpAuth: PLAIN/LOGIN, RFC 4954, and CRAM-MD5, RFC 2195) advertised as the
// authMechanisms line says, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT. Replies
// to MAIL, RCPT, DATA and the end of data can be scripted (a whole reply line such as
// "451 4.3.0 later"); null means success. Every message and every command count is recorded.
internal sealed class TestSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly X509Certificate2? _certificate;
    // Null: no AUTH offered, none required.
    private readonly TestSmtpAuth? _auth;
    private readonly Channel<ReceivedMail> _received = Channel.CreateUnbounded<ReceivedMail>();
    private readonly ConcurrentBag<Task> _sessions = [];
    private readonly Task _accept;
    private int _connections;
    private int _rcptCommands;
    private int _quits;
    private int _noOps;
    private int _startTlsCommands;
    private int _tlsFailures;

    public TestSmtpServer(X509Certificate2? certificate = null, string? user = null, string? password = null, string authMechanisms = "PLAIN LOGIN",
        bool implicitTls = false, bool offerStartTls = true, int port = 0)
    {
        _certificate = certificate;
        ImplicitTls = implicitTls && certificate is not null;
        OfferStartTls = offerStartTls && certificate is not null && !ImplicitTls;
        _auth = user is null ? null : new TestSmtpAuth(user, password, authMechanisms);
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

    // Advertised as SIZE (RFC 1870) when above 0; a message over it gets 552 5.3.4.
    public volatile int MaxSize;

    // False: MaxSize is enforced but not advertised (a relay that only answers 552).
    public volatile bool AdvertiseSize = true;

    public int OversizeRejected => Volatile.Read(ref _oversizeRejected);

    private int _oversizeRejected;

    public int Connections => Volatile.Read(ref _connections);
    public int RcptCommands => Volatile.Read(ref _rcptCommands);
    public int Quits => Volatile.Read(ref _quits);
    public int NoOps => Volatile.Read(ref _noOps);
    public int AuthFailures => _auth?.Failures ?? 0;
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
        var lines = new TestSmtpLines(stream);
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
                lines = new TestSmtpLines(stream);
                secure = true;
            }
            await lines.ReplyAsync("220 test ESMTP", token);
            while (await lines.ReadLineAsync(token) is { } bytes)
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
                        if (_auth is not null)
                        {
                            ehlo.Add("250-AUTH " + AuthMechanisms);
                        }
                        if (MaxSize > 0 && AdvertiseSize)
                        {
                            ehlo.Add("250-SIZE " + MaxSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
                        }
                        ehlo.Add("250 8BITMIME");
                        await lines.ReplyAsync(string.Join("\r\n", ehlo), token);
                        break;
                    case "HELO":
                        await lines.ReplyAsync("250 test", token);
                        break;
                    case "STAR" when OfferStartTls && !secure:
                        Interlocked.Increment(ref _startTlsCommands);
                        await lines.ReplyAsync("220 2.0.0 ready for TLS", token);
                        stream = await HandshakeAsync(stream, token);
                        lines = new TestSmtpLines(stream); // RFC 3207: discard everything from before TLS
                        secure = true;
                        authUser = null;
                        from = null;
                        recipients.Clear();
                        break;
                    case "AUTH" when _auth is not null:
                        authUser = await _auth.AuthenticateAsync(line[4..].Trim(), lines, token);
                        break;
                    case "MAIL":
                        if (_auth is not null && authUser is null)
                        {
                            await lines.ReplyAsync("530 5.7.0 authentication required", token);
                            break;
                        }
                        var mailReply = MailReply ?? "250 2.1.0 ok";
                        if (mailReply[0] == '2')
                        {
                            from = Path(line);
                            recipients.Clear();
                        }
                        await lines.ReplyAsync(mailReply, token);
                        break;
                    case "RCPT":
                        Interlocked.Increment(ref _rcptCommands);
                        var rcptReply = RcptReply ?? "250 2.1.5 ok";
                        if (rcptReply[0] == '2')
                        {
                            recipients.Add(Path(line));
                        }
                        await lines.ReplyAsync(rcptReply, token);
                        break;
                    case "DATA":
                        if (DropAtData)
                        {
                            return;
                        }
                        if (DataReply is { } dataReply)
                        {
                            await lines.ReplyAsync(dataReply, token);
                            break;
                        }
                        await lines.ReplyAsync("354 go ahead", token);
                        var data = await lines.ReadDataAsync(token);
                        var endReply = EndOfDataReply ?? "250 2.0.0 queued";
                        if (MaxSize > 0 && data.Length > MaxSize)
                        {
                            Interlocked.Increment(ref _oversizeRejected);
                            endReply = "552 5.3.4 message size exceeds fixed limit";
                        }
                        if (endReply[0] == '2' && from is not null)
                        {
                            var mail = new ReceivedMail(from, [.. recipients], data, secure, authUser, connection);
                            lock (Messages)
                            {
                                Messages.Add(mail);
                            }
                            _received.Writer.TryWrite(mail);
                        }
                        from = null;
                        recipients.Clear();
                        await lines.ReplyAsync(endReply, token);
                        if (CloseAfterMessage)
                        {
                            return;
                        }
                        break;
                    case "RSET":
                        from = null;
                        recipients.Clear();
                        await lines.ReplyAsync("250 2.0.0 ok", token);
                        break;
                    case "NOOP":
                        Interlocked.Increment(ref _noOps);
                        await lines.ReplyAsync("250 2.0.0 ok", token);
                        break;
                    case "QUIT":
                        Interlocked.Increment(ref _quits);
                        await lines.ReplyAsync("221 2.0.0 bye", token);
                        return;
                    default:
                        await lines.ReplyAsync("502 5.5.2 not implemented", token);
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

    // "MAIL FROM:<a@b> BODY=8BITMIME" → "a@b"; "<>" → "".
    private static string Path(string line)
    {
        var open = line.IndexOf('<', StringComparison.Ordinal);
        // The last '>': a quoted local part may hold one ("a>b"@y.test).
        var close = line.LastIndexOf('>');
        return line[(open + 1)..close];
    }

    internal sealed record ReceivedMail(string From, IReadOnlyList<string> Recipients, byte[] Data, bool Secure, string? AuthUser, int Connection);
}
