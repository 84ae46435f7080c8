using System.Net;
using System.Net.Sockets;
using Failmail.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Failmail.Tests.Hosting;

public sealed class HttpStatsServerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly FailmailMetrics _metrics = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task RootServesTheOriginalJsonShape()
    {
        _metrics.ObserveBatcher(() => new SpecBatcherStats(1, 2, new DateTimeOffset(2014, 2, 28, 23, 0, 5, TimeSpan.FromHours(-5))));
        await using var server = await StartAsync();
        using var client = new HttpClient();

        using var response = await client.GetAsync(Url(server, "/")).WaitAsync(Wait);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{\"ActiveBatches\":1,\"ActiveMessages\":2,\"LastReceived\":\"2014-02-28T23:00:05-05:00\",\"Version\":\"" + FailmailVersion.Text + "\"}\n", body);
    }

    [Fact]
    public async Task RootWithNoBatchesShowsGoZeroTime()
    {
        await using var server = await StartAsync();
        using var client = new HttpClient();

        var body = await client.GetStringAsync(Url(server, "/")).WaitAsync(Wait);

        Assert.Equal("{\"ActiveBatches\":0,\"ActiveMessages\":0,\"LastReceived\":\"0001-01-01T00:00:00Z\",\"Version\":\"" + FailmailVersion.Text + "\"}\n", body);
    }

    [Fact]
    public async Task MetricsParseAsPrometheusText()
    {
        _metrics.MessageReceived();
        _metrics.RecordDigestSendDuration(TimeSpan.FromMilliseconds(300));
        _metrics.ObserveStore(() => new StoreStats(1, _time.GetUtcNow().AddMinutes(-2)));
        await using var server = await StartAsync();
        using var client = new HttpClient();

        using var response = await client.GetAsync(Url(server, "/metrics")).WaitAsync(Wait);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var families = PrometheusTextParser.Parse(body);
        Assert.Equal(14, families.Keys.Count(k => k.StartsWith("failmail_", StringComparison.Ordinal)));
        Assert.Equal(["process_cpu_seconds_total", "process_open_fds", "process_resident_memory_bytes", "process_start_time_seconds", "process_virtual_memory_bytes"],
            families.Keys.Where(k => k.StartsWith("process_", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal(1, families["failmail_messages_received_total"].Samples.Single().Value);
        Assert.Equal(120, families["failmail_oldest_pending_message_age_seconds"].Samples.Single().Value);
        Assert.Equal(1, families["failmail_digest_send_duration_seconds"].Samples.Single(s => s.Name.EndsWith("_count", StringComparison.Ordinal)).Value);
    }

    [Fact]
    public async Task HealthzFollowsStoreAndRelayState()
    {
        await using var server = await StartAsync();
        using var client = new HttpClient();

        Assert.Equal((HttpStatusCode.OK, "ok\n"), await GetAsync(client, server, "/healthz"));

        _metrics.StoreWriteFailed("No space left on device");
        var (status, body) = await GetAsync(client, server, "/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("store unwritable: No space left on device\n", body);

        _metrics.StoreWriteSucceeded();
        _metrics.RelayFailed(_time.GetUtcNow());
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, server, "/healthz")).Status);

        _time.Advance(TimeSpan.FromSeconds(1));
        (status, body) = await GetAsync(client, server, "/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.StartsWith("relay failing since 2026-03-01T12:00:00Z (601s", body, StringComparison.Ordinal);

        // A later failure does not restart the clock; a success ends the run.
        _metrics.RelayFailed(_time.GetUtcNow());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await GetAsync(client, server, "/healthz")).Status);
        _metrics.DigestSent();
        Assert.Equal((HttpStatusCode.OK, "ok\n"), await GetAsync(client, server, "/healthz"));
    }

    [Fact]
    public async Task HealthzIs503NamingAPartThatStoppedOrIsStuck()
    {
        await using var server = await StartAsync();
        using var client = new HttpClient();
        var watch = new PartWatch(_time);
        long? busySince = null;
        watch.Add("spool importer", null, () => busySince, TimeSpan.FromMinutes(1));
        _metrics.Parts = watch;
        Assert.Equal((HttpStatusCode.OK, "ok\n"), await GetAsync(client, server, "/healthz"));

        busySince = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromSeconds(90));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "spool importer has made no progress for 90s (limit 60s)\n"), await GetAsync(client, server, "/healthz"));

        busySince = null;
        watch.Add("batcher", Task.FromException(new InvalidOperationException("boom")), () => null, TimeSpan.FromMinutes(1));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "batcher is not running (InvalidOperationException: boom)\n"), await GetAsync(client, server, "/healthz"));
    }

    [Fact]
    public async Task UnknownPathIs404AndPostIsNotAllowed()
    {
        await using var server = await StartAsync();
        using var client = new HttpClient();

        using var missing = await client.GetAsync(Url(server, "/nope")).WaitAsync(Wait);
        using var post = await client.PostAsync(Url(server, "/"), new StringContent("")).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [Fact]
    public async Task KeepAliveAndPipelinedRequestsAreAnsweredInOrder()
    {
        await using var server = await StartAsync();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, server.Port).WaitAsync(Wait);

        await socket.SendAsync("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\n\r\nGET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"u8.ToArray()).WaitAsync(Wait);
        var text = await ReadToEndAsync(socket);

        var statuses = text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("HTTP/1.1 ", StringComparison.Ordinal)).ToList();
        Assert.Equal(["HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found", "HTTP/1.1 200 OK"], statuses);
        Assert.EndsWith("Connection: close\r\n\r\nok\n", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GARBAGE\r\n\r\n", "HTTP/1.1 400 Bad Request")]
    [InlineData("GET / HTTP/1.1\r\nX: ", "HTTP/1.1 431 Request Header Fields Too Large")]
    public async Task ABadHeadIsAnsweredAndTheConnectionClosed(string request, string statusLine)
    {
        await using var server = await StartAsync();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, server.Port).WaitAsync(Wait);
        var padded = request.EndsWith(": ", StringComparison.Ordinal) ? request + new string('a', HttpRequestParser.MaxHeadBytes) : request;

        await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes(padded)).WaitAsync(Wait);
        var text = await ReadToEndAsync(socket);

        Assert.StartsWith(statusLine + "\r\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmptyBindTurnsHttpOff()
    {
        var server = await HttpStatsServer.StartAsync("", _metrics, NullLoggerFactory.Instance).WaitAsync(Wait);

        Assert.Null(server);
    }

    [Fact]
    public async Task BindFailureIsAnError()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen(1);
        var port = ((IPEndPoint)taken.LocalEndPoint!).Port;

        var ex = await Assert.ThrowsAsync<IOException>(() => HttpStatsServer.StartAsync($"127.0.0.1:{port}", _metrics, NullLoggerFactory.Instance).WaitAsync(Wait));

        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("8025")]
    [InlineData("localhost:")]
    [InlineData("localhost:http")]
    [InlineData("localhost:70000")]
    public async Task MalformedBindAddressesAreRejected(string bind)
    {
        await Assert.ThrowsAsync<FormatException>(() => HttpStatsServer.StartAsync(bind, _metrics, NullLoggerFactory.Instance).WaitAsync(Wait));
    }

    private async Task<HttpStatsServer> StartAsync()
    {
        var server = await HttpStatsServer.StartAsync("127.0.0.1:0", _metrics, NullLoggerFactory.Instance, _time).WaitAsync(Wait);
        Assert.NotNull(server);
        Assert.NotEqual(0, server.Port);
        return server;
    }

    // Reads until the server closes the connection.
    private static async Task<string> ReadToEndAsync(Socket socket)
    {
        var received = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer).WaitAsync(Wait)) > 0)
        {
            received.Write(buffer, 0, read);
        }
        return System.Text.Encoding.ASCII.GetString(received.ToArray());
    }

    private static Uri Url(HttpStatsServer server, string path) => new($"http://127.0.0.1:{server.Port}{path}");

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(HttpClient client, HttpStatsServer server, string path)
    {
        using var response = await client.GetAsync(Url(server, path)).WaitAsync(Wait);
        return (response.StatusCode, await response.Content.ReadAsStringAsync().WaitAsync(Wait));
    }
}
