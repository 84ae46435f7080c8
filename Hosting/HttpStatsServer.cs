using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Failmail.Config;
using Failmail.GoSyntax;
using Microsoft.Extensions.Logging;

namespace Failmail.Hosting;

// --bind-http: GET / (spec §7 JSON), GET /metrics (Prometheus) and GET /healthz over a small
// HTTP/1.1 server of our own; /api/ and /ui/ are handed to an IHttpApi (issue 15), which may
// read a bounded body (MaxBodyBytes) or keep the response open (server-sent events); with a
// certificate (--http-tls-cert) every connection is TLS. It was Kestrel on a WebApplication: the host, its dependency
// injection (open generics built by the AOT type loader at run time) and Kestrel's statics
// cost ~5 MB of RSS, ~4 MB of binary and most of the start-up time, for three GET routes
// polled every few seconds. Keep-alive and pipelined requests are served in order; a request
// with a body is answered (the API reads it first) and the connection closed; heads are bounded (HttpRequestParser)
// and must arrive within RequestTimeout of the connection becoming idle (slowloris).
internal sealed class HttpStatsServer : IAsyncDisposable
{
    // Past this, new connections are closed at once.
    // A scraper, a few health probes, a few consoles (each holds one event stream).
    private const int MaxConnections = 32;

    // Bodies of API requests (a silence is a few hundred bytes).
    public const int MaxBodyBytes = 64 * 1024;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan LingerTimeout = TimeSpan.FromSeconds(2);
    private const int LingerBytes = 64 * 1024;

    private static readonly HostJsonContext Json = new(new JsonSerializerOptions
    {
        // Go's encoder leaves '+' alone (the default one would write \u002B in "+01:00").
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    private readonly Socket _listenSocket;
    private readonly IFailmailStats _stats;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _relayFailureThreshold;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<Task> _connections = [];
    private Task _acceptLoop = Task.CompletedTask;
    private string? _lastProblem;
    private IHttpApi? _api;
    private X509Certificate2? _certificate;

    private HttpStatsServer(Socket listenSocket, IFailmailStats stats, TimeProvider timeProvider, TimeSpan relayFailureThreshold, ILogger logger)
    {
        _listenSocket = listenSocket;
        _stats = stats;
        _timeProvider = timeProvider;
        _relayFailureThreshold = relayFailureThreshold;
        _logger = logger;
        Endpoint = (IPEndPoint)(listenSocket.LocalEndPoint ?? throw new InvalidOperationException("not bound"));
    }

    public IPEndPoint Endpoint { get; }

    public int Port => Endpoint.Port;

    // Null when bindHttp is empty (HTTP off). A bind failure throws IOException: it is a
    // start-up error, not something to ignore as failmail did (spec §10.13).
    public static async Task<HttpStatsServer?> StartAsync(
        string bindHttp,
        IFailmailStats stats,
        ILoggerFactory loggerFactory,
        TimeProvider? timeProvider = null,
        TimeSpan? relayFailureThreshold = null,
        IHttpApi? api = null,
        X509Certificate2? certificate = null,
        Socket? listening = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bindHttp);
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        if (bindHttp.Length == 0)
        {
            return null;
        }
        // listening: a socket a --master bound and keeps for its workers (Hosting/MasterProcess).
        var socket = listening ?? BindHttp(bindHttp);
        var server = new HttpStatsServer(socket, stats, timeProvider ?? TimeProvider.System, relayFailureThreshold ?? HealthCheck.DefaultRelayFailureThreshold,
            loggerFactory.CreateLogger("Failmail.Hosting.Http"))
        {
            _api = api,
            _certificate = certificate,
        };
        server._acceptLoop = server.AcceptLoopAsync();
        var shown = server.Endpoint.ToString();
        HostLog.HttpListening(server._logger, shown);
        return server;
    }

    private static Socket BindHttp(string bindHttp)
    {
        var endpoint = BindAddress.Resolve("--bind-http", bindHttp);
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            socket.Bind(endpoint);
            socket.Listen(64);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new IOException($"cannot listen for HTTP on {bindHttp}: {ex.Message}", ex);
        }
        return socket;
    }

    public async ValueTask DisposeAsync()
    {
        // Cancel the pending accept before closing the socket (closing with an accept pending
        // makes .NET close it abortively), then end the open connections.
        await _stop.CancelAsync().ConfigureAwait(false);
        await _acceptLoop.ConfigureAwait(false);
        _listenSocket.Dispose();
        Task[] open;
        lock (_connections)
        {
            open = [.. _connections];
        }
        await Task.WhenAll(open).ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listenSocket.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // ECONNABORTED, EMFILE: this client only.
                HostLog.HttpConnectionFailed(_logger, e.Message);
                await Task.Yield();
                continue;
            }
            lock (_connections)
            {
                if (_connections.Count >= MaxConnections)
                {
                    client.Dispose();
                    continue;
                }
                var connection = ServeAsync(client);
                if (!connection.IsCompleted)
                {
                    _connections.Add(connection);
                    _ = connection.ContinueWith(Forget, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
            }
        }
    }

    private static void Forget(Task connection, object? state)
    {
        var server = (HttpStatsServer)state!; // ContinueWith above always passes the server.
        lock (server._connections)
        {
            server._connections.Remove(connection);
        }
    }

    // One connection: requests in order until the client closes, asks to close, breaks the
    // grammar or stays silent past RequestTimeout. Every fault ends here, logged. A request
    // with a body is read whole when the API takes it (bounded), else answered and closed.
    private async Task ServeAsync(Socket client)
    {
        using var _ = client;
        var buffer = new byte[HttpRequestParser.MaxHeadBytes];
        var filled = 0;
        Stream stream = new NetworkStream(client, ownsSocket: false);
        var remote = (client.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
        try
        {
            if (_certificate is not null)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                using var handshake = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                handshake.CancelAfter(RequestTimeout);
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, handshake.Token).ConfigureAwait(false);
            }
            while (true)
            {
                HttpParseStatus status;
                HttpRequestHead head;
                int consumed;
                using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
                {
                    deadline.CancelAfter(RequestTimeout);
                    while ((status = HttpRequestParser.TryParse(buffer.AsSpan(0, filled), out head, out consumed)) == HttpParseStatus.Incomplete)
                    {
                        var read = await stream.ReadAsync(buffer.AsMemory(filled), deadline.Token).ConfigureAwait(false);
                        if (read == 0)
                        {
                            return;
                        }
                        filled += read;
                    }
                }
                if (status != HttpParseStatus.Complete)
                {
                    var code = status == HttpParseStatus.TooLarge ? 431 : 400;
                    await SendAsync(stream, HttpResponse.Text(code, "text/plain; charset=utf-8", ""), keepAlive: false).ConfigureAwait(false);
                    await LingerAsync(client, buffer).ConfigureAwait(false);
                    return;
                }
                // Handlers read /proc and take locks: not on the socket engine thread that every
                // SMTP session shares (inline completions, see Program.cs).
                await Task.Yield();
                if (_api is not null && _api.Handles(head.Path))
                {
                    var body = Array.Empty<byte>();
                    if (head.HasBody)
                    {
                        if (head.ContentLength < 0 || head.ContentLength > MaxBodyBytes)
                        {
                            var refused = head.ContentLength < 0 ? HttpResponse.Text(411, "application/json", "{\"error\":\"a body needs a Content-Length\"}")
                                : HttpResponse.Text(413, "application/json", "{\"error\":\"body too large\"}");
                            await SendAsync(stream, refused, keepAlive: false).ConfigureAwait(false);
                            await LingerAsync(client, buffer).ConfigureAwait(false);
                            return;
                        }
                        body = new byte[head.ContentLength];
                        var have = Math.Min(filled - consumed, body.Length);
                        buffer.AsSpan(consumed, have).CopyTo(body);
                        consumed += have;
                        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                        deadline.CancelAfter(RequestTimeout);
                        await stream.ReadExactlyAsync(body.AsMemory(have), deadline.Token).ConfigureAwait(false);
                    }
                    var response = await _api.AnswerAsync(new HttpRequest(head, body, remote, _certificate is not null), _stop.Token).ConfigureAwait(false);
                    if (response.Stream is { } events)
                    {
                        await SendAsync(stream, response, keepAlive: false, streaming: true).ConfigureAwait(false);
                        await events(stream, _stop.Token).ConfigureAwait(false);
                        return;
                    }
                    // After a body the connection closes (the parser does not keep the client's wish).
                    var keep = head.KeepAlive;
                    await SendAsync(stream, response, keep).ConfigureAwait(false);
                    if (!keep)
                    {
                        return;
                    }
                }
                else
                {
                    var answer = Answer(head);
                    await SendAsync(stream, HttpResponse.Text(answer.Status, answer.ContentType, answer.Body), head.KeepAlive).ConfigureAwait(false);
                    if (!head.KeepAlive)
                    {
                        if (head.HasBody && _certificate is null)
                        {
                            await LingerAsync(client, buffer).ConfigureAwait(false);
                        }
                        return;
                    }
                }
                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException or AuthenticationException)
        {
            // A silent or vanished client, a failed handshake, or shutdown.
        }
        catch (Exception e)
        {
            HostLog.HttpConnectionFailed(_logger, e.ToString());
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    // Closing with unread bytes (a body, the rest of an oversized head) makes the kernel send
    // a reset, which can overtake the response: send FIN first, then read and drop what the
    // client still sends, bounded in bytes and time.
    private async Task LingerAsync(Socket client, byte[] buffer)
    {
        if (_certificate is not null)
        {
            return; // under TLS the records are not ours to drain
        }
        client.Shutdown(SocketShutdown.Send);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        deadline.CancelAfter(LingerTimeout);
        for (var drained = 0; drained < LingerBytes;)
        {
            var read = await client.ReceiveAsync(buffer, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }
            drained += read;
        }
    }

    private (int Status, string ContentType, string Body) Answer(HttpRequestHead head)
    {
        Func<(int, string, string)>? handler = head.Path switch
        {
            "/" => Stats,
            "/metrics" => Metrics,
            "/healthz" => Health,
            _ => null,
        };
        if (handler is null)
        {
            return (404, "text/plain; charset=utf-8", "");
        }
        // As Kestrel's MapGet did: a known path with another method (HEAD included) is 405.
        return head.Method == "GET" ? handler() : (405, "text/plain; charset=utf-8", "");
    }

    private (int, string, string) Stats()
    {
        var body = new StatsResponse(_stats.ActiveBatches, _stats.ActiveMessages, GoFormat.Rfc3339Nano(_stats.LastReceived), FailmailVersion.Text);
        // failmail ended the body with a newline, as Go's json.Encoder does.
        return (200, "application/json; charset=utf-8", JsonSerializer.Serialize(body, Json.StatsResponse) + "\n");
    }

    private (int, string, string) Metrics()
    {
        var text = PrometheusWriter.Write(_stats, _timeProvider.GetUtcNow()) + PrometheusWriter.WriteProcess(ProcessSample.Read());
        return (200, PrometheusWriter.ContentType, text);
    }

    private (int, string, string) Health()
    {
        var problem = HealthCheck.Problem(_stats, _timeProvider.GetUtcNow(), _relayFailureThreshold);
        var previous = Interlocked.Exchange(ref _lastProblem, problem);
        if (problem is not null && previous is null)
        {
            HostLog.Unhealthy(_logger, problem);
        }
        return problem is null ? (200, "text/plain; charset=utf-8", "ok\n") : (503, "text/plain; charset=utf-8", problem + "\n");
    }

    private async Task SendAsync(Stream stream, HttpResponse response, bool keepAlive, bool streaming = false)
    {
        var status = response.Status;
        var reason = status switch
        {
            200 => "OK",
            201 => "Created",
            204 => "No Content",
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            411 => "Length Required",
            413 => "Content Too Large",
            431 => "Request Header Fields Too Large",
            500 => "Internal Server Error",
            _ => "Service Unavailable",
        };
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {reason}\r\nContent-Type: {response.ContentType}\r\n");
        if (!streaming)
        {
            head.Append(CultureInfo.InvariantCulture, $"Content-Length: {response.Body.Length}\r\n");
        }
        head.Append(CultureInfo.InvariantCulture, $"Cache-Control: no-store\r\nDate: {_timeProvider.GetUtcNow():r}\r\n");
        if (status == 405 && response.Headers.Count == 0)
        {
            head.Append("Allow: GET\r\n");
        }
        foreach (var (name, value) in response.Headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }
        if (!keepAlive)
        {
            head.Append("Connection: close\r\n");
        }
        head.Append("\r\n");
        var text = head.ToString();
        var bytes = new byte[Encoding.ASCII.GetByteCount(text) + response.Body.Length];
        var written = Encoding.ASCII.GetBytes(text, bytes);
        response.Body.CopyTo(bytes.AsSpan(written));
        await stream.WriteAsync(bytes, _stop.Token).ConfigureAwait(false);
        await stream.FlushAsync(_stop.Token).ConfigureAwait(false);
    }
}
