using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Failmail.Outputs;

// The HTTP services (Slack, Discord, Teams, PagerDuty, Twilio, webhook): one HttpClient per
// output (its connections are reused), each post bounded by --relay-timeout on the output's
// TimeProvider. 2xx is sent; connection errors, timeouts, 5xx, 408 and 429 are retried with
// the service's Retry-After (or Discord's X-RateLimit-Reset-After); any other status is
// permanent, and the payload and response go to the fail-dir. Redirects are not followed:
// a webhook URL that redirects is wrong, and a POST turned into a GET would be lost.
internal sealed class HttpOutputChannel : IOutputChannel
{
    private const int MaxResponseKept = 4096;

    private readonly OutputTarget _target;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly string _localHost;
    private readonly HttpClient _client;

    public HttpOutputChannel(OutputTarget target, TimeSpan timeout, TimeProvider time, string localHost, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (target.Endpoint is null)
        {
            throw new ArgumentException($"{target.Display}: no endpoint", nameof(target));
        }
        _target = target;
        _timeout = timeout;
        _time = time;
        _localHost = localHost;
        handler ??= new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectTimeout = timeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        };
        // The timeout is ours (on the TimeProvider), not HttpClient's.
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("failmail", "1"));
    }

    public OutputPayload Render(OutputEntry entry) => _target.Kind switch
    {
        OutputKind.Slack => SlackRenderer.Render(entry),
        OutputKind.Discord => DiscordRenderer.Render(entry),
        OutputKind.Teams => TeamsRenderer.Render(entry),
        OutputKind.PagerDuty => PagerDutyRenderer.Render(_target, entry, _localHost),
        OutputKind.Twilio => TwilioRenderer.Render(_target, entry),
        OutputKind.Webhook => WebhookRenderer.Render(_target, entry, _time.GetUtcNow()),
        _ => throw new InvalidOperationException($"{_target.Kind} is not an HTTP output"),
    };

    public async Task<OutputResult> DeliverAsync(OutputEntry entry, CancellationToken cancellationToken)
    {
        var payload = Render(entry);
        using var request = new HttpRequestMessage(HttpMethod.Post, _target.Endpoint)
        {
            Content = new ByteArrayContent(payload.Body),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(payload.ContentType + (payload.ContentType == OutputPayload.Json ? "; charset=utf-8" : ""));
        foreach (var (name, value) in payload.Headers)
        {
            _ = request.Headers.TryAddWithoutValidation(name, value);
        }
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var timer = _time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), bound, _timeout, Timeout.InfiniteTimeSpan);
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return OutputResult.Retry($"no answer within {(long)_timeout.TotalSeconds}s");
        }
        catch (HttpRequestException e)
        {
            return OutputResult.Retry("connection failed: " + OneLine(e.Message));
        }
        catch (IOException e)
        {
            return OutputResult.Retry("connection failed: " + OneLine(e.Message));
        }
        using (response)
        {
            string text;
            try
            {
                text = await ReadSomeAsync(response, bound.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // The status arrived; a 2xx whose body broke off was still taken.
                text = "";
            }
            var status = (int)response.StatusCode;
            var wait = RetryAfter(response, _time.GetUtcNow());
            if (status is >= 200 and < 300)
            {
                return OutputResult.Sent($"HTTP {status}") with { PauseAfter = BucketEmpty(response) };
            }
            var reason = $"HTTP {status} {response.ReasonPhrase}: {OneLine(text)}".TrimEnd(' ', ':');
            if (status is 408 or 429 || status >= 500)
            {
                // Discord's 429 also says it in its body: {"retry_after": 1.5, ...}.
                wait ??= status == 429 ? RetryAfterInBody(text) : null;
                return OutputResult.Retry(reason, wait) with { Status = status, Response = text };
            }
            return new OutputResult(OutputOutcome.Permanent, reason)
            {
                Status = status,
                Response = text,
                Payload = Encoding.UTF8.GetString(payload.Body),
            };
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    // Retry-After (seconds or an HTTP date), else Discord's X-RateLimit-Reset-After (seconds,
    // fractional); null when the service said nothing. Capped at an hour.
    internal static TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset now)
    {
        TimeSpan? wait = null;
        if (response.Headers.RetryAfter is { } retry)
        {
            wait = retry.Delta ?? (retry.Date is { } date ? date - now : null);
        }
        else if (Seconds(response, "X-RateLimit-Reset-After") is { } reset)
        {
            wait = reset;
        }
        return wait is { } w ? TimeSpan.FromTicks(Math.Clamp(w.Ticks, 0, TimeSpan.FromHours(1).Ticks)) : null;
    }

    // The top-level "retry_after" (seconds, fractional) of a JSON body, as Discord sends it
    // with a 429; null when the body is not JSON or has none. Capped at an hour.
    internal static TimeSpan? RetryAfterInBody(string body)
    {
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(body), new JsonReaderOptions { MaxDepth = 8 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isRetryAfter = reader.ValueTextEquals("retry_after"u8);
                if (!reader.Read())
                {
                    return null;
                }
                if (isRetryAfter && reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var seconds) && seconds is >= 0 and < 86400)
                {
                    return TimeSpan.FromSeconds(Math.Min(seconds, TimeSpan.FromHours(1).TotalSeconds));
                }
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Not JSON: the backoff alone decides.
        }
        return null;
    }

    // Discord: X-RateLimit-Remaining 0 means the next post must wait for the bucket's reset.
    private static TimeSpan? BucketEmpty(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-RateLimit-Remaining", out var remaining) && remaining.FirstOrDefault() == "0"
            ? Seconds(response, "X-RateLimit-Reset-After")
            : null;

    private static TimeSpan? Seconds(HttpResponseMessage response, string header) =>
        response.Headers.TryGetValues(header, out var values)
        && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
        && seconds is >= 0 and < 86400
            ? TimeSpan.FromSeconds(seconds)
            : null;

    private static async Task<string> ReadSomeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[MaxResponseKept];
            var filled = 0;
            int read;
            while (filled < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0)
            {
                filled += read;
            }
            return Encoding.UTF8.GetString(buffer, 0, filled);
        }
    }

    private static string OneLine(string text) => TextCut.Chars(TextCut.OneLine(text).Trim(), 300);
}
