using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Failmail.Config;
using Failmail.GoSyntax;
using Microsoft.Extensions.Logging;

namespace Failmail.Hosting;

// --bind-http: GET / (spec §7 JSON), GET /metrics (Prometheus) and GET /healthz over a small
// HTTP/1.1 server of our own. It was Kestrel on a WebApplication: the host, its dependency
// injection (open generics built by the AOT type loader at run time) and Kestrel's statics
// cost ~5 MB of RSS, ~4 MB of binary and most of the start-up time, for three GET routes
// polled every few seconds. Keep-alive and pipelined requests are served in order; a request
// with a body is answered and the connection closed; heads are bounded (HttpRequestParser)
// and must arrive within RequestTimeout of the connection becoming idle (slowloris).
internal sealed class HttpStatsServer : IAsyncDisposable
{
    // A scraper and a few health probes; past this, new connections are closed at once.
    private const int MaxConnections = 16;
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
            loggerFactory.CreateLogger("Failmail.Hosting.Http"));
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

    // One connection: requests in order until the client closes, asks to close, sends a body,
    // breaks the grammar or stays silent past RequestTimeout. Every fault ends here, logged.
    private async Task ServeAsync(Socket client)
    {
        using var _ = client;
        var buffer = new byte[HttpRequestParser.MaxHeadBytes];
        var filled = 0;
        try
        {
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
                        var read = await client.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, deadline.Token).ConfigureAwait(false);
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
                    await SendAsync(client, code, "text/plain; charset=utf-8", "", keepAlive: false).ConfigureAwait(false);
                    await LingerAsync(client, buffer).ConfigureAwait(false);
                    return;
                }
                // Handlers read /proc and take locks: not on the socket engine thread that every
                // SMTP session shares (inline completions, see Program.cs).
                await Task.Yield();
                var answer = Answer(head);
                await SendAsync(client, answer.Status, answer.ContentType, answer.Body, head.KeepAlive).ConfigureAwait(false);
                if (!head.KeepAlive)
                {
                    if (head.HasBody)
                    {
                        await LingerAsync(client, buffer).ConfigureAwait(false);
                    }
                    return;
                }
                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // A silent or vanished client, or shutdown.
        }
        catch (Exception e)
        {
            HostLog.HttpConnectionFailed(_logger, e.ToString());
        }
    }

    // Closing with unread bytes (a body, the rest of an oversized head) makes the kernel send
    // a reset, which can overtake the response: send FIN first, then read and drop what the
    // client still sends, bounded in bytes and time.
    private async Task LingerAsync(Socket client, byte[] buffer)
    {
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

    private Task SendAsync(Socket client, int status, string contentType, string body, bool keepAlive)
    {
        var reason = status switch
        {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            431 => "Request Header Fields Too Large",
            _ => "Service Unavailable",
        };
        var length = Encoding.UTF8.GetByteCount(body);
        var allow = status == 405 ? "Allow: GET\r\n" : "";
        var connection = keepAlive ? "" : "Connection: close\r\n";
        var head = string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 {status} {reason}\r\nContent-Type: {contentType}\r\nContent-Length: {length}\r\nCache-Control: no-store\r\nDate: {_timeProvider.GetUtcNow():r}\r\n{allow}{connection}\r\n");
        var bytes = new byte[Encoding.ASCII.GetByteCount(head) + length];
        var written = Encoding.ASCII.GetBytes(head, bytes);
        Encoding.UTF8.GetBytes(body, bytes.AsSpan(written));
        return SendAllAsync(client, bytes);
    }

    private async Task SendAllAsync(Socket client, byte[] bytes)
    {
        var sent = 0;
        while (sent < bytes.Length)
        {
            sent += await client.SendAsync(bytes.AsMemory(sent), SocketFlags.None, _stop.Token).ConfigureAwait(false);
        }
    }
}
