using System.Text.Json;
using Failmail.Outputs;
using Failmail.Tests.Maildir;
using Microsoft.Extensions.Time.Testing;

namespace Failmail.Tests.Outputs;

// The worker and its HTTP channel against a local HTTP server, on a fake clock: each outcome
// the services document (2xx, 429 with Retry-After, 5xx, timeout, 400) and what follows it.
public sealed class OutputWorkerTests : IAsyncDisposable
{
    private readonly TestHttpServer _server = new();
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(OutputTestKit.T0);
    private readonly ListLoggerFactory _log = new();

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    private (OutputWorker Worker, HttpOutputChannel Channel) Create(string target, string? queueDir = null)
    {
        var parsed = OutputTestKit.Target(target);
        var channel = new HttpOutputChannel(parsed, TimeSpan.FromSeconds(10), _time, "hub.test");
        var worker = new OutputWorker(parsed, new OutputQueue(queueDir), channel, OutputTestKit.Settings(_dir.Combine("failed")), _time, _log.CreateLogger("t"));
        return (worker, channel);
    }

    [Fact]
    public async Task ASlackPostIsJsonWithTheDocumentedShape()
    {
        var (worker, channel) = Create("slack+" + _server.Url("/services/T/B/X"));
        await using var owned = channel;
        worker.Enqueue(OutputTestKit.Summary());
        Assert.Equal(TimeSpan.Zero, await worker.StepAsync(CancellationToken.None));
        var request = Assert.Single(_server.Requests);
        Assert.Equal(("POST", "/services/T/B/X"), (request.Method, request.Path));
        Assert.Equal("application/json; charset=utf-8", request.Headers["Content-Type"]);
        using var json = request.Json();
        Assert.Empty(OutputTestKit.ShapeDifferences(OutputTestKit.Fixture("slack-incoming-webhook.json"), json.RootElement));
        Assert.Equal(0, worker.Queue.Count);
        Assert.Equal(1, worker.Counters.Sent);
        // Slack allows about one post a second per webhook: the next waits.
        worker.Enqueue(OutputTestKit.Summary(recipient: "other@example.com"));
        Assert.Equal(TimeSpan.FromSeconds(1), await worker.StepAsync(CancellationToken.None));
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task A429WaitsForRetryAfterThenSends()
    {
        var (worker, channel) = Create("webhook+" + _server.Url());
        await using var owned = channel;
        _server.Enqueue(429, "slow down", ("Retry-After", "120"));
        worker.Enqueue(OutputTestKit.Summary());
        await worker.StepAsync(CancellationToken.None);
        Assert.Equal(1, worker.Counters.Retried);
        Assert.Equal(1, worker.Queue.Count);
        // Retry-After (120 s) is longer than --retry-min (30 s): it wins.
        Assert.Equal(TimeSpan.FromSeconds(120), await worker.StepAsync(CancellationToken.None));
        _time.Advance(TimeSpan.FromSeconds(119));
        Assert.Equal(TimeSpan.FromSeconds(1), await worker.StepAsync(CancellationToken.None));
        _time.Advance(TimeSpan.FromSeconds(1));
        await worker.StepAsync(CancellationToken.None);
        Assert.Equal(2, _server.Requests.Count);
        Assert.Equal(0, worker.Queue.Count);
        Assert.Equal(1, worker.Counters.Sent);
        Assert.Null(worker.Counters.FailingSince);
    }

    [Fact]
    public async Task DiscordsRateLimitHeadersPauseTheOutput()
    {
        var (worker, channel) = Create("discord+" + _server.Url("/api/webhooks/1/T"));
        await using var owned = channel;
        _server.Enqueue(204, "", ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset-After", "2.5"));
        worker.Enqueue(OutputTestKit.Summary());
        worker.Enqueue(OutputTestKit.Summary(recipient: "b@example.com"));
        await worker.StepAsync(CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(2.5), await worker.StepAsync(CancellationToken.None));
        _server.Enqueue(429, """{"message": "You are being rate limited.", "retry_after": 64.57, "global": false}""", ("X-RateLimit-Reset-After", "64.57"));
        _time.Advance(TimeSpan.FromSeconds(2.5));
        await worker.StepAsync(CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(64.57), await worker.StepAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ADiscord429WithItsWaitOnlyInTheBodyWaitsThatLong()
    {
        var (worker, channel) = Create("discord+" + _server.Url("/api/webhooks/1/T"));
        await using var owned = channel;
        _server.Enqueue(429, """{"message": "You are being rate limited.", "retry_after": 42.5, "global": false}""");
        worker.Enqueue(OutputTestKit.Summary());
        await worker.StepAsync(CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(42.5), await worker.StepAsync(CancellationToken.None));
        Assert.Equal(1, worker.Queue.Count);
    }

    [Theory]
    [InlineData("not json", null)]
    [InlineData("[1, 2]", null)]
    [InlineData("{\"retry_after\": \"soon\"}", null)]
    [InlineData("{\"retry_after\": -1}", null)]
    [InlineData("{\"a\": {\"retry_after\": 9}, \"retry_after\": 3}", 3.0)]
    [InlineData("{\"retry_after\": 7200}", 3600.0)]
    public void TheBodysRetryAfterIsReadOnlyAtTheTopLevelAndBounded(string body, double? seconds) =>
        Assert.Equal(seconds is { } s ? TimeSpan.FromSeconds(s) : null, HttpOutputChannel.RetryAfterInBody(body));

    [Fact]
    public async Task TwoTwilioTargetsSendingFromOneNumberShareItsOneTextASecond()
    {
        var pacer = new OutputPacer();
        OutputWorker Twilio(string to)
        {
            var target = OutputTestKit.Target($"twilio+http://AC1:tok@{_server.Url()["http://".Length..]}/Messages.json?from=%2B15550001&to={to}");
            var channel = new HttpOutputChannel(target, TimeSpan.FromSeconds(10), _time, "hub.test");
            return new OutputWorker(target, new OutputQueue(null), channel, OutputTestKit.Settings(_dir.Combine("failed")), _time, _log.CreateLogger("t")) { Pacer = pacer };
        }
        var first = Twilio("%2B15550002");
        var second = Twilio("%2B15550003");
        Assert.Equal(OutputPacer.RateKey(first.Target), OutputPacer.RateKey(second.Target));
        _server.Enqueue(201, "{}");
        _server.Enqueue(201, "{}");
        first.Enqueue(OutputTestKit.Summary());
        second.Enqueue(OutputTestKit.Summary());

        await first.StepAsync(CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(1), await second.StepAsync(CancellationToken.None));
        Assert.Single(_server.Requests);
        _time.Advance(TimeSpan.FromSeconds(1));
        await second.StepAsync(CancellationToken.None);
        Assert.Equal(2, _server.Requests.Count);
        Assert.Equal(0, second.Queue.Count);
    }

    [Fact]
    public async Task A500BacksOffLikeTheRelayAndKeepsThePost()
    {
        var (worker, channel) = Create("pagerduty+" + _server.Url("/v2/enqueue") + "?routing_key=K");
        await using var owned = channel;
        _server.Enqueue(500, "oops");
        _server.Enqueue(503, "oops");
        worker.Enqueue(OutputTestKit.Summary());
        await worker.StepAsync(CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(30), await worker.StepAsync(CancellationToken.None));
        _time.Advance(TimeSpan.FromSeconds(30));
        await worker.StepAsync(CancellationToken.None);
        // Doubled, as the relay's backoff.
        Assert.Equal(TimeSpan.FromSeconds(60), await worker.StepAsync(CancellationToken.None));
        Assert.Equal(OutputTestKit.T0.AddSeconds(0), worker.Counters.FailingSince);
        Assert.Equal(2, worker.Counters.Retried);
        _server.Enqueue(202, """{"status":"success","message":"Event processed","dedup_key":"x"}""");
        _time.Advance(TimeSpan.FromSeconds(60));
        await worker.StepAsync(CancellationToken.None);
        Assert.Equal(1, worker.Counters.Sent);
        Assert.Equal(0, worker.Queue.Count);
        // The same dedup_key each time: a repeat updates the same alert.
        var keys = _server.Requests.Select(r => r.Json().RootElement.GetProperty("dedup_key").GetString()).Distinct();
        Assert.Single(keys);
    }

    [Fact]
    public async Task ATimeoutIsRetried()
    {
        var (worker, channel) = Create("slack+" + _server.Url());
        await using var owned = channel;
        _server.Enqueue(new TestHttpServer.Reply(200, "", []) { Hang = true });
        worker.Enqueue(OutputTestKit.Summary());
        var step = worker.StepAsync(CancellationToken.None);
        await _server.NextAsync();
        // The request is out and its timer armed: --relay-timeout passes on the fake clock.
        _time.Advance(TimeSpan.FromSeconds(10));
        await step.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, worker.Counters.Retried);
        Assert.Equal(1, worker.Queue.Count);
        Assert.Contains(_log.Lines, l => l.Text.Contains("no answer within 10s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AConnectionErrorIsRetried()
    {
        using var refused = new EndToEnd.RefusedPort();
        var (worker, channel) = Create($"slack+http://127.0.0.1:{refused.Port}/x");
        await using var owned = channel;
        worker.Enqueue(OutputTestKit.Summary());
        await worker.StepAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, worker.Counters.Retried);
        Assert.Equal(1, worker.Queue.Count);
    }

    [Fact]
    public async Task A400GoesToTheFailDirWithPayloadAndResponse()
    {
        var (worker, channel) = Create("slack+" + _server.Url());
        await using var owned = channel;
        _server.Enqueue(400, "invalid_blocks");
        var entry = worker.Enqueue(OutputTestKit.Summary());
        await worker.StepAsync(CancellationToken.None);
        Assert.Equal(0, worker.Queue.Count);
        Assert.Equal(1, worker.Counters.Failed);
        var file = Assert.Single(Directory.GetFiles(_dir.Combine("failed", "outputs")));
        Assert.EndsWith($"{worker.Target.Id}.{entry.Id}.json", file, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(File.ReadAllBytes(file));
        Assert.Equal(400, json.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("invalid_blocks", json.RootElement.GetProperty("response").GetString());
        using var payload = JsonDocument.Parse(json.RootElement.GetProperty("payload").GetString()!);
        Assert.True(payload.RootElement.TryGetProperty("blocks", out _));
        Assert.Equal("ops@example.com", json.RootElement.GetProperty("entry").GetProperty("summary").GetProperty("recipient").GetString());
        // Not retried.
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Null(await worker.StepAsync(CancellationToken.None));
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task EachOutcomeIsRecordedInTheHistoryUnderTheOutputsName()
    {
        var history = new RecordingHistory();
        var parsed = OutputTestKit.Target("slack+" + _server.Url());
        await using var channel = new HttpOutputChannel(parsed, TimeSpan.FromSeconds(10), _time, "hub.test");
        var worker = new OutputWorker(parsed, new OutputQueue(null), channel, OutputTestKit.Settings(_dir.Combine("failed")), _time, _log.CreateLogger("t")) { History = history };
        _server.Enqueue(500, "busy");
        _server.Enqueue(200, "ok");
        var entry = worker.Enqueue(OutputTestKit.Summary());
        await worker.StepAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromHours(1));
        await worker.StepAsync(CancellationToken.None);
        Assert.Equal(["queued", "posted"], history.Records.Select(r => r.Outcome));
        Assert.All(history.Records, r => Assert.Equal((worker.Target.Id + "." + entry.Id, worker.Target.Id, "ops@example.com"), (r.Id, r.Target, r.Recipient)));
        Assert.Contains("500", history.Records[0].Error, StringComparison.Ordinal);
        Assert.NotEmpty(history.Records[1].Text);
    }

    private sealed class RecordingHistory : Failmail.Batching.IDigestHistory
    {
        public List<Failmail.Batching.DigestRecord> Records { get; } = [];

        public void Record(Failmail.Batching.DigestRecord record) => Records.Add(record);
    }

    [Fact]
    public async Task PendingPostsForOneRecipientAreMergedWhileTheOutputIsDown()
    {
        var (worker, channel) = Create("webhook+" + _server.Url());
        await using var owned = channel;
        _server.Enqueue(500, "");
        worker.Enqueue(OutputTestKit.Summary(groups: 2));
        await worker.StepAsync(CancellationToken.None);
        for (var i = 0; i < 20; i++)
        {
            worker.Enqueue(OutputTestKit.Summary(groups: 3));
        }
        worker.Enqueue(OutputTestKit.Summary(recipient: "other@example.com"));
        Assert.Equal(22, worker.Queue.Count);
        _time.Advance(TimeSpan.FromSeconds(30));
        await worker.StepAsync(CancellationToken.None);
        // 21 digests for ops@ in one post; other@ still waits for its own.
        Assert.Equal(1, worker.Queue.Count);
        using var json = _server.Requests.Last().Json();
        Assert.Equal(21, json.RootElement.GetProperty("digests").GetInt32());
        Assert.Equal(2 * 2 + 20 * 3 * 2, json.RootElement.GetProperty("total_messages").GetInt32());
        Assert.Equal(3, json.RootElement.GetProperty("group_count").GetInt32());
        Assert.Equal(42, json.RootElement.GetProperty("groups")[0].GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task PagerDutyMergesOnlyWithinOneBatchKey()
    {
        var (worker, channel) = Create("pagerduty+" + _server.Url() + "?routing_key=K");
        await using var owned = channel;
        _server.Enqueue(429, "");
        worker.Enqueue(OutputTestKit.Summary(batchKey: "db"));
        await worker.StepAsync(CancellationToken.None);
        worker.Enqueue(OutputTestKit.Summary(batchKey: "db"));
        worker.Enqueue(OutputTestKit.Summary(batchKey: "web"));
        _time.Advance(TimeSpan.FromSeconds(30));
        await worker.StepAsync(CancellationToken.None);
        Assert.Equal(1, worker.Queue.Count);
        Assert.Equal("web", worker.Queue.Snapshot()[0].Summary.BatchKey);
    }

    [Fact]
    public async Task AnEntryPastTheQueueLifetimeGoesToTheFailDir()
    {
        var (worker, channel) = Create("slack+" + _server.Url());
        await using var owned = channel;
        _server.Enqueue(503, "");
        worker.Enqueue(OutputTestKit.Summary());
        await worker.StepAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        Assert.Null(await worker.StepAsync(CancellationToken.None));
        Assert.Equal(1, worker.Counters.Failed);
        var file = Assert.Single(Directory.GetFiles(_dir.Combine("failed", "outputs")));
        Assert.Contains("--queue-lifetime", File.ReadAllText(file), StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueuedPostsSurviveARestart()
    {
        var queueDir = _dir.Combine("queue", "slack");
        var (worker, channel) = Create("slack+" + _server.Url(), queueDir);
        await using (channel)
        {
            _server.Enqueue(500, "");
            worker.Enqueue(OutputTestKit.Summary());
            await worker.StepAsync(CancellationToken.None);
        }
        // A new process: the same queue directory, delivered from disk.
        var (again, channel2) = Create("slack+" + _server.Url(), queueDir);
        await using var owned2 = channel2;
        Assert.Equal(1, again.Queue.Count);
        await again.StepAsync(CancellationToken.None);
        Assert.Equal(0, again.Queue.Count);
        Assert.Empty(Directory.GetFiles(queueDir));
        Assert.Equal(2, _server.Requests.Count);
    }

    [Fact]
    public async Task AtStopThePendingPostsGetALastAttempt()
    {
        var target = OutputTestKit.Target("webhook+" + _server.Url());
        await using var channel = new HttpOutputChannel(target, TimeSpan.FromSeconds(10), TimeProvider.System, "hub.test");
        var worker = new OutputWorker(target, new OutputQueue(null), channel, OutputTestKit.Settings(_dir.Combine("failed")), TimeProvider.System, _log.CreateLogger("t"));
        worker.Enqueue(OutputTestKit.Summary(recipient: "a@example.com"));
        worker.Enqueue(OutputTestKit.Summary(recipient: "b@example.com"));
        using var stop = new CancellationTokenSource();
        await stop.CancelAsync();
        await worker.RunAsync(stop.Token).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, _server.Requests.Count);
        Assert.Equal(0, worker.Queue.Count);

        // Handed over to a reload child: nothing is posted here.
        worker.Enqueue(OutputTestKit.Summary());
        worker.SkipDrainOnStop();
        await worker.RunAsync(stop.Token).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, _server.Requests.Count);
        Assert.Equal(1, worker.Queue.Count);
    }
}
