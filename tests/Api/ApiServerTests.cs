using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Failmail.Api;
using Failmail.Batching;
using Failmail.History;
using Failmail.Hosting;
using Failmail.Silences;
using Failmail.Tests.Batching;
using Failmail.Tests.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Failmail.Tests.Api;

// /api/v1 over the real HTTP server on 127.0.0.1, with a real batcher on a fake clock.
public sealed class ApiServerTests : IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private const string Token = "0123456789abcdef-token";

    private readonly BatcherServiceKit _kit = new();
    private readonly FailmailMetrics _metrics = new();
    private readonly DigestHistory _history = new("", 100);
    private readonly HttpClient _client = new();
    private HttpStatsServer? _server;
    private SilenceBook? _silences;

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        await _kit.DisposeAsync();
        _client.Dispose();
    }

    private async Task<BatcherService> StartAsync(string? token = null, bool loopbackOnly = true)
    {
        _silences = new SilenceBook("", _kit.Time);
        var batcher = await _kit.StartAsync(silences: new SilenceGate(_silences, _kit.Time, _history));
        var settings = new ApiSettings(loopbackOnly, token, null, "", 100, "", "");
        var api = new ApiServer(settings, _metrics, batcher, null, _history, _silences, _kit.Time);
        _server = await HttpStatsServer.StartAsync("127.0.0.1:0", _metrics, NullLoggerFactory.Instance, _kit.Time, api: api).WaitAsync(Wait);
        return batcher;
    }

    private Uri Url(string path) => new($"http://127.0.0.1:{_server!.Port}{path}");

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? json = null, Action<HttpRequestMessage>? setup = null)
    {
        using var request = new HttpRequestMessage(method, Url(path));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        setup?.Invoke(request);
        using var response = await _client.SendAsync(request).WaitAsync(Wait);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(Wait);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static string SilenceJson(string endsAt = "2014-07-01T14:00:00Z") =>
        $$"""{"matchers":[{"name":"subject","value":"disk.*","isRegex":true,"isEqual":true}],"endsAt":"{{endsAt}}","createdBy":"ops","comment":"maintenance"}""";

    [Fact]
    public async Task OpenBatchesAreListedWithCountsAndAFlushSendsOneNow()
    {
        await StartAsync();
        await _kit.AcceptAsync(await _kit.StoreAsync("disk full"));
        await _kit.AcceptAsync(await _kit.StoreAsync("disk full"));
        await _kit.AcceptAsync(await _kit.StoreAsync("load high", to: "dev@example.com"));

        var (status, body) = await SendAsync(HttpMethod.Get, "/api/v1/batches");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body.GetArrayLength());
        var ops = body.EnumerateArray().Single(b => b.GetProperty("recipient").GetString() == "ops@example.com");
        Assert.Equal(2, ops.GetProperty("count").GetInt32());
        Assert.Equal("disk full", ops.GetProperty("groups")[0].GetProperty("subject").GetString());
        Assert.Equal(BatcherServiceKit.T0.AddSeconds(30), ops.GetProperty("sendAt").GetDateTimeOffset());

        var (flushed, _) = await SendAsync(HttpMethod.Post, $"/api/v1/batches/{ops.GetProperty("id").GetInt64()}/flush");

        Assert.Equal(HttpStatusCode.OK, flushed);
        var digest = Assert.Single(_kit.Sender.Sent);
        Assert.Equal("[failmail] 2 instances: disk full", digest.Message.Subject);
        var (_, after) = await SendAsync(HttpMethod.Get, "/api/v1/batches");
        Assert.Equal(1, after.GetArrayLength());
    }

    [Theory]
    [InlineData("POST", "/api/v1/batches/999/flush", HttpStatusCode.NotFound, "no open batch")]
    [InlineData("POST", "/api/v1/batches/x1/flush", HttpStatusCode.BadRequest, "id must be")]
    [InlineData("GET", "/api/v1/digests/nope", HttpStatusCode.NotFound, "no digest")]
    [InlineData("GET", "/api/v1/digests?limit=0", HttpStatusCode.BadRequest, "limit")]
    [InlineData("GET", "/api/v1/digests?before=nope", HttpStatusCode.BadRequest, "before")]
    [InlineData("GET", "/api/v1/batches?limit=abc", HttpStatusCode.BadRequest, "limit")]
    [InlineData("DELETE", "/api/v1/silences/nope", HttpStatusCode.NotFound, "no silence")]
    [InlineData("GET", "/api/v1/silences/nope", HttpStatusCode.NotFound, "no silence")]
    [InlineData("POST", "/api/v1/failed/nope/resend", HttpStatusCode.NotFound, "no failed message")]
    [InlineData("GET", "/api/v1/nothing", HttpStatusCode.NotFound, "no such endpoint")]
    [InlineData("DELETE", "/api/v1/batches", HttpStatusCode.MethodNotAllowed, "not allowed")]
    public async Task BadInputAndUnknownIdsGetJsonErrors(string method, string path, HttpStatusCode expected, string error)
    {
        await StartAsync();
        var (status, body) = await SendAsync(new HttpMethod(method), path);
        Assert.Equal(expected, status);
        Assert.Contains(error, body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{", "body")]
    [InlineData("""{"matchers":[],"endsAt":"2014-07-01T14:00:00Z"}""", "matchers")]
    [InlineData("""{"matchers":[{"name":"subject","value":"x"}]}""", "endsAt")]
    [InlineData("""{"matchers":[{"name":"subject","value":"x"}],"endsAt":"soon"}""", "endsAt")]
    [InlineData("""{"matchers":[{"name":"color","value":"x"}],"endsAt":"2014-07-01T14:00:00Z"}""", "matchers[].name")]
    [InlineData("""{"matchers":[{"name":"subject","value":"(("}],"endsAt":"2014-07-01T14:00:00Z","isRegex":true}""", "")]
    public async Task ABadSilenceIs400NamingTheField(string json, string field)
    {
        await StartAsync();
        var (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/silences", json);
        if (field.Length == 0)
        {
            // isRegex outside the matcher is ignored: "((" is a plain value, which is fine.
            Assert.Equal(HttpStatusCode.OK, status);
            return;
        }
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith(field, body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASilenceMadeThroughTheApiLeavesTheNextMessageOutAndCanBeExpired()
    {
        await StartAsync();
        var (created, body) = await SendAsync(HttpMethod.Post, "/api/v1/silences", SilenceJson());
        Assert.Equal(HttpStatusCode.OK, created);
        var id = body.GetProperty("silenceID").GetString();

        await _kit.AcceptAsync(await _kit.StoreAsync("disk full"));
        var (_, list) = await SendAsync(HttpMethod.Get, "/api/v1/silences");
        Assert.Equal("active", list[0].GetProperty("status").GetProperty("state").GetString());
        Assert.Equal("disk.*", list[0].GetProperty("matchers")[0].GetProperty("value").GetString());
        var (_, digests) = await SendAsync(HttpMethod.Get, "/api/v1/digests");
        Assert.Equal("silenced", digests[0].GetProperty("outcome").GetString());
        var (_, one) = await SendAsync(HttpMethod.Get, "/api/v1/digests/" + Uri.EscapeDataString(digests[0].GetProperty("id").GetString()!));
        Assert.Contains("body of disk full", one.GetProperty("text").GetString(), StringComparison.Ordinal);

        var (expired, _) = await SendAsync(HttpMethod.Delete, "/api/v1/silences/" + id);
        Assert.Equal(HttpStatusCode.OK, expired);
        await _kit.AcceptAsync(await _kit.StoreAsync("disk full"));
        var (_, batches) = await SendAsync(HttpMethod.Get, "/api/v1/batches");
        Assert.Equal(1, batches[0].GetProperty("count").GetInt32());
        var (_, status) = await SendAsync(HttpMethod.Get, "/api/v1/status");
        Assert.Equal(1, status.GetProperty("silenced").GetInt64());
    }

    [Fact]
    public async Task WithATokenEveryApiRequestNeedsItButMetricsStayOpen()
    {
        await StartAsync(Token, loopbackOnly: false);

        var (none, body) = await SendAsync(HttpMethod.Get, "/api/v1/batches");
        var (wrong, _) = await SendAsync(HttpMethod.Get, "/api/v1/batches", setup: r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "0123456789abcdef-tokeX"));
        var (right, _) = await SendAsync(HttpMethod.Get, "/api/v1/batches", setup: r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token));
        var (post, _) = await SendAsync(HttpMethod.Post, "/api/v1/silences", SilenceJson());
        using var metrics = await _client.GetAsync(Url("/metrics")).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.Unauthorized, none);
        Assert.Contains("token", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong);
        Assert.Equal(HttpStatusCode.OK, right);
        Assert.Equal(HttpStatusCode.Unauthorized, post);
        Assert.Empty(_silences!.All);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
    }

    [Fact]
    public async Task AMutationFromAnotherOriginIsRefused()
    {
        await StartAsync();
        var (foreign, body) = await SendAsync(HttpMethod.Post, "/api/v1/silences", SilenceJson(), r => r.Headers.Add("Origin", "http://evil.example"));
        Assert.Equal(HttpStatusCode.Forbidden, foreign);
        Assert.Contains("CSRF", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Empty(_silences!.All);

        var (own, _) = await SendAsync(HttpMethod.Post, "/api/v1/silences", SilenceJson(), r => r.Headers.Add("Origin", $"http://127.0.0.1:{_server!.Port}"));
        Assert.Equal(HttpStatusCode.OK, own);
    }

    [Fact]
    public async Task OnLoopbackAForeignHostNameIsRefused()
    {
        await StartAsync();
        var (status, _) = await SendAsync(HttpMethod.Get, "/api/v1/batches", setup: r => r.Headers.Host = "attacker.example");
        Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    [Fact]
    public async Task TheConsoleIsServedWithAStrictContentSecurityPolicy()
    {
        await StartAsync();
        using var page = await _client.GetAsync(Url("/ui/")).WaitAsync(Wait);
        var html = await page.Content.ReadAsStringAsync().WaitAsync(Wait);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<title>failmail</title>", html, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        using var script = await _client.GetAsync(Url("/ui/app.js")).WaitAsync(Wait);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        using var missing = await _client.GetAsync(Url("/ui/nope.js")).WaitAsync(Wait);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task EventsStreamAChangeAtOnce()
    {
        await StartAsync();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _server!.Port).WaitAsync(Wait);
        await socket.SendAsync(Encoding.ASCII.GetBytes("GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).WaitAsync(Wait);
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (!received.ToString().Contains("event: change\ndata: {", StringComparison.Ordinal))
        {
            var read = await socket.ReceiveAsync(buffer).WaitAsync(Wait);
            Assert.NotEqual(0, read);
            received.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }
        Assert.StartsWith("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream", received.ToString(), StringComparison.Ordinal);
    }
}
