using Failmail.Batching;
using Failmail.Timing;
using Microsoft.Extensions.Logging;

namespace Failmail.Outputs;

// One output's delivery worker: posts its queue oldest first, one at a time, no faster than
// the service's published rate (MinInterval), and backs the whole output off (--retry-min to
// --retry-max, or longer when the service said Retry-After) while it fails, as the relay does.
// An output that falls behind does not pile up posts: before each post, every entry pending
// for the same recipient (and, for PagerDuty, the same batch key: one dedup_key) is merged
// into one, written durably before the parts are removed. Past --queue-lifetime, or refused
// for good, an entry goes to the fail-dir as JSON.
internal sealed class OutputWorker
{
    private readonly OutputTarget _target;
    private readonly IOutputChannel _channel;
    private readonly OutputSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BusyClock _busy;
    private readonly Dictionary<string, int> _faults = new(StringComparer.Ordinal);
    // The sender whose rate this target shares (OutputPacer), fixed by the target.
    private readonly string _rateKey;
    // Set by Enqueue (any thread), replaced by the worker before it looks at the queue.
    private volatile TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _skipDrain;
    private int _failures;
    private long _readyAt;
    private long _nextPoll;

    public OutputWorker(OutputTarget target, OutputQueue queue, IOutputChannel channel, OutputSettings settings, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(time);
        _target = target;
        Queue = queue;
        _channel = channel;
        _settings = settings;
        _time = time;
        _logger = logger;
        _busy = new BusyClock(time);
        _readyAt = time.GetTimestamp();
        MinInterval = DefaultInterval(target.Kind);
        _rateKey = OutputPacer.RateKey(target);
    }

    public OutputTarget Target => _target;

    // The API's digest history (issue 15): each post's outcome, as the relay records a mail's.
    public IDigestHistory? History { get; init; }

    public OutputQueue Queue { get; }

    public OutputCounters Counters { get; } = new();

    public long? BusySince => _busy.Since;

    // The service's published rate: Slack about one message per second per webhook, Twilio one
    // per second per number, PagerDuty 120 events per minute per key; Discord's buckets are
    // followed from its headers, Teams is kept at one a second.
    internal TimeSpan MinInterval { get; init; }

    // Shared by the workers of one OutputSet: targets posting as the same sender (RateKey)
    // keep MinInterval between them together, not each on its own.
    public OutputPacer? Pacer { get; init; }

    public static TimeSpan DefaultInterval(OutputKind kind) => kind switch
    {
        OutputKind.Slack or OutputKind.Twilio or OutputKind.Teams => TimeSpan.FromSeconds(1),
        OutputKind.PagerDuty => TimeSpan.FromMilliseconds(500),
        _ => TimeSpan.Zero,
    };

    public OutputStatus Status => new(_target.Id, _target.Kind.ToString().ToLowerInvariant(), Counters.Sent, Counters.Retried, Counters.Failed,
        Queue.Count, Counters.FailingSince);

    // The router's hand-off: durable when it returns.
    public OutputEntry Enqueue(OutputSummary summary)
    {
        var entry = Queue.Add(summary, _time.GetUtcNow());
        OutputsLog.Queued(_logger, _target.Id, entry.Id, summary.Recipient);
        _wake.TrySetResult();
        return entry;
    }

    public async Task RunAsync(CancellationToken stop)
    {
        // A reload parent may have delivered or queued posts since this queue was opened.
        Queue.Resync();
        OutputsLog.Started(_logger, _target.Display, Queue.Count);
        try
        {
            while (true)
            {
                stop.ThrowIfCancellationRequested();
                _busy.Working();
                if (_wake.Task.IsCompleted)
                {
                    _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                var now = _time.GetTimestamp();
                if (now >= _nextPoll)
                {
                    // `failmail resend` writes into the queue directory.
                    _ = Queue.Adopt();
                    _nextPoll = now + MonotonicTime.ToTicks(_time, _settings.Poll);
                }
                TimeSpan? wait;
                try
                {
                    // Not cancelled by stop: a post cut short leaves its outcome unknown.
                    // --relay-timeout bounds it instead.
                    wait = await StepAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The queue or the fail-dir cannot be written: the entry stays queued;
                    // try again after the backoff instead of spinning or ending the worker.
                    OutputsLog.AttemptFailed(_logger, _target.Id, "-", e);
                    _readyAt = _time.GetTimestamp() + MonotonicTime.ToTicks(_time, _settings.RetryMin);
                    wait = _settings.RetryMin;
                }
                if (wait == TimeSpan.Zero)
                {
                    continue;
                }
                var untilPoll = _time.GetElapsedTime(_time.GetTimestamp(), _nextPoll);
                var sleep = wait is { } w && w < untilPoll ? w : untilPoll;
                _busy.Idle();
                await WaitAsync(sleep, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            if (!_skipDrain)
            {
                await DrainAsync().ConfigureAwait(false);
            }
            OutputsLog.Stopped(_logger, _target.Id, Queue.Count);
        }
    }

    // Reload: the new process loads the same queue and posts it; this one must not.
    public void SkipDrainOnStop() => _skipDrain = true;

    // On stop: the posts that are due get a last attempt within --shutdown-timeout (waiting
    // out the service's rate when that fits); the rest stays queued for the next start. With
    // --memory-store this is their only chance, as for the relay's queue.
    private async Task DrainAsync()
    {
        using var bound = new CancellationTokenSource(_settings.ShutdownTimeout, _time);
        var started = _time.GetTimestamp();
        try
        {
            for (var i = 0; i < 1000 && Queue.Count > 0; i++)
            {
                var wait = await StepAsync(bound.Token).ConfigureAwait(false);
                if (wait is not { } w)
                {
                    break;
                }
                if (w > TimeSpan.Zero)
                {
                    if (_time.GetElapsedTime(started) + w >= _settings.ShutdownTimeout)
                    {
                        break;
                    }
                    await Task.Delay(w, _time, bound.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            OutputsLog.AttemptFailed(_logger, _target.Id, "-", e);
        }
    }

    // One look at the queue and at most one post. Returns zero to go on at once, the time
    // until the output may post again, or null when the queue is empty.
    internal async Task<TimeSpan?> StepAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        if (now < _readyAt)
        {
            return Queue.Count > 0 ? _time.GetElapsedTime(now, _readyAt) : null;
        }
        var pending = Queue.Snapshot();
        if (pending.Count == 0)
        {
            return null;
        }
        var wallNow = _time.GetUtcNow();
        foreach (var old in pending.Where(e => wallNow - e.Queued > _settings.QueueLifetime))
        {
            GiveUp(old, new OutputResult(OutputOutcome.Permanent, $"not delivered within --queue-lifetime: {LastReason}"));
        }
        pending = Queue.Snapshot();
        if (pending.Count == 0)
        {
            return null;
        }
        if (Pacer is { } pacer && MinInterval > TimeSpan.Zero
            && !pacer.TryTake(_rateKey, now, MonotonicTime.ToTicks(_time, MinInterval), out var turn))
        {
            return _time.GetElapsedTime(now, now + turn);
        }
        var entry = MergePending(pending);
        OutputResult result;
        try
        {
            result = await _channel.DeliverAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Not the service's answer but our fault (a render that throws on this content):
            // twice for one entry and it alone goes to the fail-dir.
            OutputsLog.AttemptFailed(_logger, _target.Id, entry.Id, e);
            _faults[entry.Id] = _faults.GetValueOrDefault(entry.Id) + 1;
            result = _faults[entry.Id] >= 2
                ? new OutputResult(OutputOutcome.Permanent, $"delivery failed twice with an unexpected error: {e.GetType().Name}: {e.Message}")
                : OutputResult.Retry($"{e.GetType().Name}: {e.Message}");
        }
        now = _time.GetTimestamp();
        switch (result.Outcome)
        {
            case OutputOutcome.Sent:
                Queue.Remove(entry.Id);
                _ = _faults.Remove(entry.Id);
                _failures = 0;
                LastReason = "";
                Counters.CountSent();
                OutputsLog.Sent(_logger, _target.Id, entry.Id, entry.Summary.Recipient, entry.Summary.TotalMessages, entry.Summary.Digests);
                Record(entry, "posted", "");
                _readyAt = now + MonotonicTime.ToTicks(_time, Max(MinInterval, result.PauseAfter ?? TimeSpan.Zero));
                break;
            case OutputOutcome.Retry:
                _failures++;
                LastReason = result.Reason;
                Counters.CountRetry(_time.GetUtcNow());
                var delay = Max(Backoff.Delay(_failures, _settings.RetryMin, _settings.RetryMax), result.RetryAfter ?? TimeSpan.Zero);
                _readyAt = now + MonotonicTime.ToTicks(_time, delay);
                OutputsLog.Deferred(_logger, _target.Id, entry.Id, result.Reason, _time.GetUtcNow() + delay);
                Record(entry, "queued", result.Reason);
                break;
            default:
                GiveUp(entry, result);
                _readyAt = now + MonotonicTime.ToTicks(_time, MinInterval);
                break;
        }
        return TimeSpan.Zero;
    }

    // Why the last attempt failed, for the fail-dir file of an entry that expires.
    internal string LastReason { get; private set; } = "";

    public void Wake() => _wake.TrySetResult();

    // Merges the oldest entry with every other pending one for the same recipient (and
    // batch key for PagerDuty). The merged entry is committed before the parts go.
    private OutputEntry MergePending(List<OutputEntry> pending)
    {
        var first = pending[0];
        var same = pending.Where(e => SameKey(e.Summary, first.Summary)).ToList();
        if (same.Count == 1)
        {
            return first;
        }
        var merged = new OutputEntry
        {
            Id = OutputQueue.NewId(first.Queued),
            Queued = first.Queued,
            Summary = OutputSummary.Merge([.. same.Select(e => e.Summary)]),
            MergedFrom = [.. same.Select(e => e.Id)],
        };
        Queue.Write(merged);
        foreach (var part in same)
        {
            Queue.Remove(part.Id);
        }
        Counters.CountMerged(same.Count);
        OutputsLog.Merged(_logger, _target.Id, same.Count, merged.Id, merged.Summary.Recipient);
        return merged;
    }

    private bool SameKey(OutputSummary a, OutputSummary b) =>
        string.Equals(a.Recipient, b.Recipient, StringComparison.OrdinalIgnoreCase)
        && (_target.Kind != OutputKind.PagerDuty || a.BatchKey == b.BatchKey);

    private void GiveUp(OutputEntry entry, OutputResult result)
    {
        var failure = new OutputFailure
        {
            Output = _target.Id,
            Target = _target.Display,
            Reason = result.Reason,
            Status = result.Status,
            Response = result.Response,
            Payload = result.Payload,
            Failed = _time.GetUtcNow(),
            Entry = entry,
        };
        var name = OutputFailDir.Write(_settings.FailDir, failure);
        Queue.Remove(entry.Id);
        _ = _faults.Remove(entry.Id);
        Counters.CountFailed();
        OutputsLog.MovedToFailDir(_logger, _target.Id, entry.Id, entry.Summary.Recipient, name, result.Reason);
        Record(entry, "failed", result.Reason);
    }

    // The history is a view: nothing it does may fail a post. The id names the output too, so
    // one digest posted to two outputs is two entries.
    private void Record(OutputEntry entry, string outcome, string error)
    {
        if (History is not { } history)
        {
            return;
        }
        try
        {
            var text = DigestText.Plain(entry.Summary, DigestRecord.MaxTextChars);
            history.Record(new DigestRecord($"{_target.Id}.{entry.Id}", _time.GetUtcNow(), entry.Summary.Recipient, entry.Summary.BatchKey,
                entry.Summary.Subject, System.Text.Encoding.UTF8.GetByteCount(text), _target.Id, outcome, error, text));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            OutputsLog.HistoryFailed(_logger, _target.Id, entry.Id, e.Message);
        }
    }

    private async Task WaitAsync(TimeSpan? timeout, CancellationToken stop)
    {
        var wake = _wake.Task;
        if (timeout is not { } t)
        {
            await wake.WaitAsync(stop).ConfigureAwait(false);
            return;
        }
        if (t <= TimeSpan.Zero)
        {
            return;
        }
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var delay = Task.Delay(t, _time, cancel.Token);
        _ = await Task.WhenAny(wake, delay).ConfigureAwait(false);
        await cancel.CancelAsync().ConfigureAwait(false);
        stop.ThrowIfCancellationRequested();
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
