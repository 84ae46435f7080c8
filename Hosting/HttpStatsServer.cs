using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Failmail.Config;
using Failmail.GoSyntax;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Failmail.Hosting;

// --bind-http: Kestrel serving GET / (spec §7 JSON), GET /metrics (Prometheus) and GET /healthz.
// Handlers are plain RequestDelegates, so there is no reflection and no code generation to
// depend on under native AOT. The host's own signal handling is replaced by a no-op lifetime:
// SignalHandler decides when the process stops.
internal sealed class HttpStatsServer : IAsyncDisposable
{
    private static readonly HostJsonContext Json = new(new JsonSerializerOptions
    {
        // Go's encoder leaves '+' alone (the default one would write \u002B in "+01:00").
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    private readonly WebApplication _app;
    private readonly IFailmailStats _stats;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _relayFailureThreshold;
    private readonly ILogger _logger;
    private string? _lastProblem;

    private HttpStatsServer(WebApplication app, IFailmailStats stats, TimeProvider timeProvider, TimeSpan relayFailureThreshold, ILogger logger)
    {
        _app = app;
        _stats = stats;
        _timeProvider = timeProvider;
        _relayFailureThreshold = relayFailureThreshold;
        _logger = logger;
    }

    public IPEndPoint Endpoint { get; private set; } = new(IPAddress.Loopback, 0);

    public int Port => Endpoint.Port;

    // Null when bindHttp is empty (HTTP off). A bind failure throws IOException: it is a
    // start-up error, not something to ignore as failmail did (spec §10.13).
    public static async Task<HttpStatsServer?> StartAsync(
        string bindHttp,
        IFailmailStats stats,
        ILoggerFactory loggerFactory,
        TimeProvider? timeProvider = null,
        TimeSpan? relayFailureThreshold = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bindHttp);
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        if (bindHttp.Length == 0)
        {
            return null;
        }
        var endpoint = BindAddress.Resolve("--bind-http", bindHttp);

        // The empty builder is the slim builder minus what failmail must not pick up from its
        // working directory and environment: appsettings.json (with a file watcher on the
        // directory), ASPNETCORE_* settings and the default console logger.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        builder.Logging.AddProvider(new ForwardingLoggerProvider(loggerFactory));
        // Request-per-line logs would drown the mail events; Kestrel's warnings still show.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // A bind failure comes back to the caller as IOException; the host's own stack-trace
        // line for it would say the same twice.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        builder.Services.AddSingleton<IHostLifetime, NoSignalsLifetime>();
        builder.WebHost.ConfigureKestrel(options =>
        {
            options.AddServerHeader = false;
            options.Listen(endpoint);
        });

        var app = builder.Build();
        var server = new HttpStatsServer(app, stats, timeProvider ?? TimeProvider.System, relayFailureThreshold ?? HealthCheck.DefaultRelayFailureThreshold, loggerFactory.CreateLogger("Failmail.Hosting.Http"));
        app.MapGet("/", server.StatsAsync);
        app.MapGet("/metrics", server.MetricsAsync);
        app.MapGet("/healthz", server.HealthAsync);

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new IOException($"cannot listen for HTTP on {bindHttp}: {ex.Message}", ex);
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>();
        var bound = addresses?.Addresses.FirstOrDefault();
        var port = bound is not null && Uri.TryCreate(bound, UriKind.Absolute, out var uri) ? uri.Port : endpoint.Port;
        server.Endpoint = new IPEndPoint(endpoint.Address, port);
        var shown = server.Endpoint.ToString();
        HostLog.HttpListening(server._logger, shown);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private Task StatsAsync(HttpContext context)
    {
        var body = new StatsResponse(_stats.ActiveBatches, _stats.ActiveMessages, GoFormat.Rfc3339Nano(_stats.LastReceived));
        var json = JsonSerializer.Serialize(body, Json.StatsResponse);
        // failmail ended the body with a newline, as Go's json.Encoder does.
        return WriteAsync(context, StatusCodes.Status200OK, "application/json; charset=utf-8", json + "\n");
    }

    private Task MetricsAsync(HttpContext context)
    {
        var text = PrometheusWriter.Write(_stats, _timeProvider.GetUtcNow()) + PrometheusWriter.WriteProcess(ProcessSample.Read());
        return WriteAsync(context, StatusCodes.Status200OK, PrometheusWriter.ContentType, text);
    }

    private Task HealthAsync(HttpContext context)
    {
        var problem = HealthCheck.Problem(_stats, _timeProvider.GetUtcNow(), _relayFailureThreshold);
        var previous = Interlocked.Exchange(ref _lastProblem, problem);
        if (problem is not null && previous is null)
        {
            HostLog.Unhealthy(_logger, problem);
        }
        return problem is null
            ? WriteAsync(context, StatusCodes.Status200OK, "text/plain; charset=utf-8", "ok\n")
            : WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "text/plain; charset=utf-8", problem + "\n");
    }

    private static Task WriteAsync(HttpContext context, int status, string contentType, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(body, Encoding.UTF8, context.RequestAborted);
    }

    // Kestrel logs through failmail's own logger factory (one format on stderr).
    private sealed class ForwardingLoggerProvider(ILoggerFactory factory) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => factory.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }

    // The default ConsoleLifetime hooks SIGINT/SIGTERM and would stop Kestrel on its own.
    private sealed class NoSignalsLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
