using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Failmail.Batching;
using Failmail.History;
using Failmail.Hosting;
using Failmail.Relay;
using Failmail.Silences;
using static Failmail.Api.ApiResponses;

namespace Failmail.Api;

// /api/v1 and /ui/ on --bind-http (issue 15). Every answer is JSON; errors are
// {"error": "..."} with the status, and bad input names its field. The batcher is asked
// through IBatchView (served on its own loop), the relay through its queue snapshot and the
// fail-dir view; history and silences are thread-safe stores of their own.
internal sealed class ApiServer : IHttpApi, IAsyncDisposable
{
    public const int MaxLimit = 1000;
    public const int DefaultLimit = 100;
    // The batcher answers between its steps; a step writing a large wave may take a while.
    private static readonly TimeSpan BatcherWait = TimeSpan.FromSeconds(10);

    private readonly ApiSettings _settings;
    private readonly IFailmailStats _stats;
    private readonly IBatchView? _batches;
    private readonly RelayService? _relay;
    private readonly FailDirView? _failDir;
    private readonly DigestHistory _history;
    private readonly SilenceBook _silences;
    private readonly TimeProvider _time;
    private readonly MessageRate _rate = new();
    private readonly EventStream _events;
    private readonly CancellationTokenSource _stop = new();
    private Task _sampler = Task.CompletedTask;

    public ApiServer(ApiSettings settings, IFailmailStats stats, IBatchView? batches, RelayService? relay, DigestHistory history, SilenceBook silences, TimeProvider time)
    {
        _settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _stats = stats ?? throw new ArgumentNullException(nameof(stats));
        _batches = batches;
        _relay = relay;
        _history = history ?? throw new ArgumentNullException(nameof(history));
        _silences = silences ?? throw new ArgumentNullException(nameof(silences));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _failDir = relay is null ? null : new FailDirView(relay, time);
        _events = new EventStream(time, () => Serialize(Status(), Json.StatusDocument), Fingerprint);
    }

    // Samples the received-message counter for the sparkline, every few seconds.
    public void Start()
    {
        _sampler = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5), _time);
            try
            {
                do
                {
                    _rate.Observe(_stats.MessagesReceived, _time.GetUtcNow());
                }
                while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false));
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _sampler.ConfigureAwait(false);
        _stop.Dispose();
    }

    public bool Handles(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return path.StartsWith("/api/", StringComparison.Ordinal) || path == "/ui" || path.StartsWith("/ui/", StringComparison.Ordinal);
    }

    public async Task<HttpResponse> AnswerAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.Head.Path;
        if (!path.StartsWith("/api/", StringComparison.Ordinal))
        {
            // The console's files hold no data: they load without a token (a browser cannot
            // send one when it opens a page); the page then asks for it and every /api/ call
            // carries it.
            return ConsolePage.Answer(request);
        }
        if (ApiAccess.Check(request, _settings) is { } refused)
        {
            var error = Error(refused.Status, refused.Error);
            return refused.Status == 401 ? new HttpResponse(401, error.ContentType, error.Body) { Headers = [new("WWW-Authenticate", "Bearer")] } : error;
        }
        try
        {
            return await RouteAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Error(503, "the batcher did not answer in time; try again");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Error(500, e.Message);
        }
    }

    private async Task<HttpResponse> RouteAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var method = request.Head.Method;
        var parts = request.Head.Path["/api/v1/".Length..].Split('/');
        if (!request.Head.Path.StartsWith("/api/v1/", StringComparison.Ordinal))
        {
            return Error(404, "no such endpoint; the API is under /api/v1/");
        }
        var segments = parts.Select(Uri.UnescapeDataString).ToArray();
        return (segments, method) switch
        {
            (["status"], "GET") => Ok(Status(), Json.StatusDocument),
            (["batches"], "GET") => await BatchesAsync(request, cancellationToken).ConfigureAwait(false),
            (["batches", var id, "flush"], "POST") => await FlushAsync(id, cancellationToken).ConfigureAwait(false),
            (["digests"], "GET") => Digests(request),
            (["digests", var id], "GET") => Digest(id),
            (["queue"], "GET") => Queue(),
            (["failed"], "GET") => Failed(request),
            (["failed", var id, "resend"], "POST") => await ResendAsync(id, cancellationToken).ConfigureAwait(false),
            (["silences"], "GET") => SilenceList(),
            (["silences"], "POST") => PostSilence(request),
            (["silence" or "silences", var id], "GET") => SilenceOne(id),
            (["silence" or "silences", var id], "DELETE") => ExpireSilence(id),
            (["events"], "GET") => _events.Open(),
            (["status" or "batches" or "digests" or "queue" or "failed" or "silences" or "events"], _)
                or (["batches" or "failed", _, _], _) or (["digests" or "silences" or "silence", _], _) => Error(405, $"{method} is not allowed here"),
            _ => Error(404, "no such endpoint"),
        };
    }

    private StatusDocument Status()
    {
        var now = _time.GetUtcNow();
        _rate.Observe(_stats.MessagesReceived, now);
        return new StatusDocument
        {
            MessagesReceived = _stats.MessagesReceived,
            Silenced = _batches?.Silenced ?? 0,
            ActiveBatches = _stats.ActiveBatches,
            DigestsSent = _stats.DigestsSent,
            QueueLength = _relay?.QueueLength ?? 0,
            Rate = _rate.Series(now),
        };
    }

    private string Fingerprint() => string.Create(CultureInfo.InvariantCulture,
        $"{_stats.MessagesReceived}/{_stats.ActiveBatches}/{_stats.DigestsSent}/{_relay?.QueueLength}/{_history.Newest}/{_silences.Version}/{_batches?.Silenced}");

    private async Task<HttpResponse> BatchesAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!TryLimit(request, out var limit, out var bad))
        {
            return bad;
        }
        if (_batches is null)
        {
            return Ok(new List<BatchDocument>(), Json.ListBatchDocument);
        }
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(BatcherWait);
        var open = await _batches.OpenBatchesAsync(limit, wait.Token).ConfigureAwait(false);
        var documents = open.Select(v => new BatchDocument
        {
            Id = v.Batch.Id,
            BatchKey = v.Batch.BatchKey,
            Recipient = v.Batch.Recipient,
            Count = v.Batch.Count,
            Groups = [.. v.Batch.Groups.Select(g => new GroupDocument { Key = g.Key, Subject = g.Subject, Count = g.Count })],
            FirstSeen = v.Batch.FirstSeen,
            LastSeen = v.Batch.LastSeen,
            SendAt = v.DueAt,
        }).OrderBy(b => b.SendAt).ToList();
        return Ok(documents, Json.ListBatchDocument);
    }

    private async Task<HttpResponse> FlushAsync(string id, CancellationToken cancellationToken)
    {
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var batchId))
        {
            return Error(400, "id must be a batch id (a number from GET /api/v1/batches)");
        }
        if (_batches is null)
        {
            return Error(404, $"no open batch {id}");
        }
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(BatcherWait);
        return await _batches.FlushAsync(batchId, wait.Token).ConfigureAwait(false)
            ? Ok(new OkDocument { Id = id }, Json.OkDocument)
            : Error(404, $"no open batch {id}");
    }

    private HttpResponse Digests(HttpRequest request)
    {
        if (!TryLimit(request, out var limit, out var bad))
        {
            return bad;
        }
        var before = Query(request, "before");
        if (before is not null && _history.Find(before) is null)
        {
            return Error(400, $"before: no digest {before} in the history");
        }
        return Ok([.. _history.List(limit, before).Select(e => ToDocument(e, null))], Json.ListHistoryDocument);
    }

    private HttpResponse Digest(string id) =>
        _history.Find(id) is { } entry
            ? Ok(ToDocument(entry, _history.Text(id) ?? ""), Json.HistoryDocument)
            : Error(404, $"no digest {id} in the history");

    private static HistoryDocument ToDocument(HistoryEntry e, string? text) => new()
    {
        Id = e.Id, Time = e.Time, Recipient = e.Recipient, BatchKey = e.BatchKey, Subject = e.Subject, Size = e.Size,
        Target = e.Target, Outcome = e.Outcome, Error = e.Error, Text = text,
    };

    private HttpResponse Queue()
    {
        var now = _time.GetTimestamp();
        var nowUtc = _time.GetUtcNow();
        var entries = _relay?.QueueSnapshot() ?? [];
        return Ok([.. entries.Take(MaxLimit).Select(e => new QueueDocument
        {
            Id = e.Id,
            Recipients = e.Recipients,
            Received = e.Message.Envelope.Received,
            Attempts = e.Attempts,
            NextRetry = e.NotBefore > now ? nowUtc + _time.GetElapsedTime(now, e.NotBefore) : null,
            LastError = e.LastError,
        })], Json.ListQueueDocument);
    }

    private HttpResponse Failed(HttpRequest request)
    {
        if (!TryLimit(request, out var limit, out var bad))
        {
            return bad;
        }
        var failed = _failDir?.List(limit) ?? [];
        return Ok([.. failed.Select(f => new FailedDocument { Id = f.Id, Subject = f.Subject, To = f.To, Time = f.Time, Size = f.Size })], Json.ListFailedDocument);
    }

    private async Task<HttpResponse> ResendAsync(string id, CancellationToken cancellationToken)
    {
        if (_failDir is null)
        {
            return Error(404, $"no failed message {id}");
        }
        try
        {
            return await _failDir.ResendAsync(id, cancellationToken).ConfigureAwait(false)
                ? Ok(new OkDocument { Id = id }, Json.OkDocument)
                : Error(404, $"no failed message {id}");
        }
        catch (FormatException e)
        {
            return Error(400, $"cannot resend {id}: {e.Message}");
        }
    }

    private HttpResponse SilenceList()
    {
        var now = _time.GetUtcNow();
        return Ok([.. _silences.All.Select(s => SilenceBook.ToDocument(s, now))], Json.ListSilenceDocument);
    }

    private HttpResponse SilenceOne(string id) =>
        _silences.Find(id) is { } silence ? Ok(SilenceBook.ToDocument(silence, _time.GetUtcNow()), Json.SilenceDocument) : Error(404, $"no silence {id}");

    private HttpResponse PostSilence(HttpRequest request)
    {
        SilenceDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(request.Body, Json.SilenceDocument);
        }
        catch (JsonException e)
        {
            var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "body" : e.Path.TrimStart('$', '.');
            return Error(400, $"{field}: not valid JSON for a silence ({e.Message.Split('.')[0]})");
        }
        if (document is null)
        {
            return Error(400, "body: a silence object is required");
        }
        var silence = _silences.Put(document, out var problem, out var notFound);
        if (silence is null)
        {
            return Error(notFound ? 404 : 400, problem ?? "invalid silence");
        }
        // Alertmanager answers {"silenceID": ...}; we add the whole silence's id as "id" too.
        return new HttpResponse(200, "application/json", Encoding.UTF8.GetBytes(
            $"{{\"silenceID\":{JsonSerializer.Serialize(silence.Id, Json.String)},\"id\":{JsonSerializer.Serialize(silence.Id, Json.String)}}}"));
    }

    private HttpResponse ExpireSilence(string id) =>
        _silences.Expire(id) ? Ok(new OkDocument { Id = id }, Json.OkDocument) : Error(404, $"no silence {id}");
}
