using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace Failmail.Tests.Outputs;

// A small HTTP/1.1 server on 127.0.0.1, port 0 (the kernel picks; the test reads it back),
// standing in for Slack, PagerDuty and the rest. It records every request and answers each
// with the next scripted reply (default 200 "ok"); a reply with Hang set is never answered,
// for timeouts. Keep-alive: several requests per connection, as HttpClient reuses them.
internal sealed class TestHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<Reply> _replies = new();
    private readonly Channel<Request> _received = Channel.CreateUnbounded<Request>();
    private readonly List<Task> _connections = [];
    private readonly Task _accept;

    public TestHttpServer()
    {
        _listener.Start();
        _accept = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Url(string path = "/hook") => $"http://127.0.0.1:{Port}{path}";

    public ConcurrentQueue<Request> Requests { get; } = new();

    public void Enqueue(Reply reply) => _replies.Enqueue(reply);

    public void Enqueue(int status, string body = "", params (string Name, string Value)[] headers) =>
        _replies.Enqueue(new Reply(status, body, headers));

    // The next request to arrive (bounded wait: 10 s).
    public async Task<Request> NextAsync() => await _received.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

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
        Task[] open;
        lock (_connections)
        {
            open = [.. _connections];
        }
        await Task.WhenAll(open).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }
            lock (_connections)
            {
                _connections.Add(ServeAsync(client));
            }
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        var buffer = new List<byte>();
        var chunk = new byte[8192];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                int headEnd;
                while ((headEnd = IndexOf(buffer, "\r\n\r\n"u8.ToArray())) < 0)
                {
                    var read = await stream.ReadAsync(chunk, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }
                    buffer.AddRange(chunk.AsSpan(0, read));
                }
                var head = Encoding.ASCII.GetString(buffer.GetRange(0, headEnd).ToArray()).Split("\r\n");
                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var line in head.Skip(1))
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                }
                var length = headers.TryGetValue("Content-Length", out var l) ? int.Parse(l, System.Globalization.CultureInfo.InvariantCulture) : 0;
                while (buffer.Count < headEnd + 4 + length)
                {
                    var read = await stream.ReadAsync(chunk, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }
                    buffer.AddRange(chunk.AsSpan(0, read));
                }
                var body = buffer.GetRange(headEnd + 4, length).ToArray();
                buffer.RemoveRange(0, headEnd + 4 + length);
                var parts = head[0].Split(' ');
                var request = new Request(parts[0], parts[1], headers, body);
                Requests.Enqueue(request);
                _received.Writer.TryWrite(request);
                var reply = _replies.TryDequeue(out var r) ? r : new Reply(200, "ok", []);
                if (reply.Hang)
                {
                    // Never answered; the connection stays open until the client gives up.
                    var read = await stream.ReadAsync(chunk, _stop.Token);
                    return;
                }
                var bodyBytes = Encoding.UTF8.GetBytes(reply.Body);
                var response = new StringBuilder();
                response.Append(System.Globalization.CultureInfo.InvariantCulture, $"HTTP/1.1 {reply.Status} Status{reply.Status}\r\n");
                response.Append(System.Globalization.CultureInfo.InvariantCulture, $"Content-Length: {bodyBytes.Length}\r\n");
                foreach (var (name, value) in reply.Headers)
                {
                    response.Append(name).Append(": ").Append(value).Append("\r\n");
                }
                response.Append("\r\n");
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response.ToString()), _stop.Token);
                await stream.WriteAsync(bodyBytes, _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static int IndexOf(List<byte> buffer, byte[] pattern)
    {
        for (var i = 0; i + pattern.Length <= buffer.Count; i++)
        {
            var match = true;
            for (var j = 0; j < pattern.Length && match; j++)
            {
                match = buffer[i + j] == pattern[j];
            }
            if (match)
            {
                return i;
            }
        }
        return -1;
    }

    internal sealed record Request(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
    {
        public string Text => Encoding.UTF8.GetString(Body);

        public System.Text.Json.JsonDocument Json() => System.Text.Json.JsonDocument.Parse(Body);
    }

    internal sealed record Reply(int Status, string Body, (string Name, string Value)[] Headers)
    {
        public bool Hang { get; init; }
    }
}
