using Failmail.Batching;
using Failmail.Maildir;
using Failmail.Timing;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Failmail.Relay;

// A durable outgoing queue in front of the relay. SendAsync commits the digest to the
// outgoing store (--queue-dir) and returns: that is the hand-off that lets the batcher
// delete the source messages. RunAsync is the one delivery worker: it sends the queue in
// order over one reused connection, closes it when idle, polls the store for resent mail
// (RelayQueueSync) and drains the queue once on shutdown. Each attempt and its outcome
// (retry, backoff, fail-dir) is RelayDelivery's.
internal sealed class RelayService : IDigestSender, IAsyncDisposable
{
    private static readonly FormatOptions Format = CreateFormat();

    // When the worker last made progress (each pass is an attempt or a look at the queue),
    // for /healthz and the host's watch (PartWatch); idle while it waits.
    private readonly BusyClock _busy;

    private readonly RelaySettings _settings;
    private readonly IMessageStore _outgoing;
    private readonly IRelayTransport _transport;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly MaildirWriter? _allDir;
    private readonly RelayQueue _queue = new();
    private readonly RelayWakeup _wakeup;
    private readonly RelayCounters _counters = new();
    private readonly RelayQueueSync _sync;
    private readonly RelayDelivery _delivery;
    private volatile bool _skipDrain;
    private volatile bool _pollStopped;

    public RelayService(FailmailOptions options, IMessageStore outgoing, IRelayTransport transport, ILoggerFactory loggerFactory, TimeProvider timeProvider)
        : this(RelaySettings.From(options), outgoing, transport, loggerFactory, timeProvider)
    {
    }

    public RelayService(RelaySettings settings, IMessageStore outgoing, IRelayTransport transport, ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(outgoing);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        // failmail turned the working directory into a maildir for an empty --fail-dir.
        if (string.IsNullOrEmpty(settings.FailDir))
        {
            throw new ArgumentException("--fail-dir must not be empty", nameof(settings));
        }
        _settings = settings;
        _outgoing = outgoing;
        _transport = transport;
        _logger = loggerFactory.CreateLogger("Failmail.Relay");
        _time = timeProvider;
        _busy = new BusyClock(timeProvider);
        var failDir = OpenMaildir("--fail-dir", settings.FailDir);
        _allDir = string.IsNullOrEmpty(settings.AllDir) ? null : OpenMaildir("--all-dir", settings.AllDir);
        _wakeup = new RelayWakeup(timeProvider);
        _sync = new RelayQueueSync(outgoing, _queue, timeProvider, _logger);
        _delivery = new RelayDelivery(settings, outgoing, transport, _logger, timeProvider, _queue, _sync, _counters, failDir);
        QueuePoll = settings.Poll;
    }

    // Close an unused connection after this long (Postfix caches for 2 s; a burst of
    // digests from one batcher tick arrives well within it).
    internal TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(5);

    // How often the worker looks in the outgoing store for entries another process added
    // (`failmail resend` while this one runs), adopting what two polls in a row find; --poll
    // by default, zero turns it off. A scan
    // reads every queued envelope, so the interval also stretches to 10x the last scan's
    // duration: a huge queue during a long outage costs at most a tenth of a core.
    internal TimeSpan QueuePoll { get; init; }

    // Where digests' fates are recorded (issue 15): queued here, relayed or failed by RelayDelivery.
    public IDigestHistory? History
    {
        get => _delivery.History;
        init => _delivery.History = value;
    }

    // The queue as it is now, for the API: id, recipients, received, attempts.
    public IReadOnlyList<RelayQueueEntry> QueueSnapshot() => _queue.Snapshot();

    public string FailDir => _settings.FailDir;

    // The envelope sender of digests (--from), and of a resent message whose From is gone.
    public string DefaultFrom => _settings.Sender;

    public RelayCounters Counters => _counters;

    // Per-relay numbers of a failover list, for /metrics.
    public IReadOnlyList<RelayEndpointStats> Endpoints => _transport.Endpoints;
    public long DigestsSent => _counters.Sent;
    public long RelayFailures => _counters.Failures;
    public long Retries => _counters.Retries;
    public long FailDirWrites => _counters.FailDirWrites;
    public int QueueLength => _queue.Count;
    public DateTimeOffset? LastSuccess => _counters.LastSuccess;
    public DateTimeOffset? FirstFailureSince => _counters.FirstFailureSince;

    // For tests: how often the worker has gone to sleep, and whether it sleeps right now.
    internal long WaitCount => _wakeup.WaitCount;
    internal bool IsWaiting => _wakeup.IsWaiting;
    internal Task WaitForWaitAsync(long count) => _wakeup.WaitForWaitAsync(count);

    public async ValueTask SendAsync(Digest digest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(digest);
        // Choose every part's transfer encoding now, for the strictest relay (7bit), so the
        // queued bytes are exactly what MailKit relays: its own Prepare then changes nothing.
        digest.Message.Prepare(EncodingConstraint.SevenBit);
        var envelope = new Envelope(_settings.Sender, [digest.Recipient], _time.GetUtcNow(), "");
        if (_allDir is not null)
        {
            // The --all-dir copy needs the bytes twice: serialise once into memory.
            using var buffer = new MemoryStream(SerialisedSizeHint(digest.Message));
            await digest.Message.WriteToAsync(Format, buffer, cancellationToken).ConfigureAwait(false);
            var queuedCopy = await EnqueueAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), envelope, cancellationToken).ConfigureAwait(false);
            RecordQueued(queuedCopy.Id, digest);
            return;
        }
        // Straight into the queue's file: a wave of digests is not also a wave of copies.
        ReceivedMessage queued;
        var draft = _outgoing.CreateDraft();
        await using (draft.ConfigureAwait(false))
        {
            using (var stream = new DraftWriteStream(draft))
            {
                digest.Message.WriteTo(Format, stream, cancellationToken);
            }
            queued = await draft.CommitAsync(envelope, cancellationToken).ConfigureAwait(false);
        }
        Queued(queued, envelope);
        RecordQueued(queued.Id, digest);
    }

    private void RecordQueued(string id, Digest digest)
    {
        try
        {
            History?.Record(new DigestRecord(id, _time.GetUtcNow(), digest.Recipient, digest.BatchKey, digest.Message.Subject ?? "", 0, "smtp", "queued", "", ""));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            RelayLog.HistoryFailed(_logger, id, e.Message);
        }
    }

    // Room for the serialised digest, so a large one is not copied through a dozen doublings:
    // its single part's content plus quoted-printable's growth (a soft break per 76 octets)
    // and the headers. A wrong guess costs only a doubling or some slack.
    internal static int SerialisedSizeHint(MimeMessage message) =>
        message.Body is MimePart { Content.Stream: { CanSeek: true } content }
            ? (int)Math.Min(content.Length + content.Length / 16 + 4096, 64L * 1024 * 1024)
            : 4096;

    // Commits a message to the outgoing queue (and its --all-dir copy) and wakes the worker.
    // Throws when the queue cannot be written; then nothing was queued.
    internal async ValueTask<ReceivedMessage> EnqueueAsync(ReadOnlyMemory<byte> message, Envelope envelope, CancellationToken cancellationToken)
    {
        ReceivedMessage queued;
        var draft = _outgoing.CreateDraft();
        await using (draft.ConfigureAwait(false))
        {
            draft.Write(message.Span);
            queued = await draft.CommitAsync(envelope, cancellationToken).ConfigureAwait(false);
        }
        if (_allDir is not null)
        {
            // A copy of every message once, not of every attempt (failmail's all-dir grew per retry).
            try
            {
                _ = _allDir.Deliver(message.Span);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                RelayLog.AllDirFailed(_logger, queued.Id, e.Message);
            }
        }
        Queued(queued, envelope);
        return queued;
    }

    private void Queued(ReceivedMessage queued, Envelope envelope)
    {
        _queue.Add(queued);
        RelayLog.Queued(_logger, queued.Id, envelope.Recipients);
        _wakeup.Signal();
    }

    // The delivery worker; run exactly one. Dispose the service only after it returned.
    // When the worker started the step it is in now (monotonic), or null while it waits.
    public long? BusySince => _busy.Since;

    public async Task RunAsync(CancellationToken stop)
    {
        _busy.Working();
        _queue.Load(_outgoing.LoadPending());
        _sync.SchedulePoll(_time.GetTimestamp(), QueuePoll);
        RelayLog.Started(_logger, _settings.Name, QueueLength);
        try
        {
            await WorkAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            RelayLog.WorkerFailed(_logger, e);
            throw;
        }
        finally
        {
            if (!_skipDrain)
            {
                await DrainAsync().ConfigureAwait(false);
            }
            RelayLog.Stopped(_logger, QueueLength);
        }
    }

    public ValueTask DisposeAsync() => _transport.DisposeAsync();

    // Reload: the new process loads the same queue and delivers it, so this one must not
    // make its last attempt (that would send the same digests twice). Call before stopping.
    public void SkipDrainOnStop() => _skipDrain = true;

    // Reload: from now on the child owns the queue; this worker must not pick up the digests
    // the child queues (its poll would, and both would send them).
    public void StopQueuePoll() => _pollStopped = true;

    private async Task WorkAsync(CancellationToken stop)
    {
        while (true)
        {
            stop.ThrowIfCancellationRequested();
            // Each pass is progress: a long queue drained attempt after attempt is not stuck.
            _busy.Working();
            // Wake-ups that arrived while we worked are answered by looking at the queue now.
            _wakeup.Clear();
            var now = _time.GetTimestamp();
            if (QueuePoll > TimeSpan.Zero && now >= _sync.NextPoll && !_pollStopped)
            {
                if (_sync.Poll(now, QueuePoll) > 0)
                {
                    // Someone queued mail by hand (resend): they expect a try now, not after the backoff.
                    _delivery.RetryNow();
                }
            }
            long? deadline;
            if (now < _delivery.RelayReadyAt)
            {
                deadline = QueueLength > 0 ? _delivery.RelayReadyAt : null;
            }
            else if (_queue.NextDue(now, out deadline) is { } entry)
            {
                try
                {
                    // Not cancelled by stop: a transaction cut short after the relay took the
                    // data leaves its outcome unknown, and the shutdown drain would send the
                    // digest again. --relay-timeout bounds the attempt instead.
                    _ = await _delivery.AttemptAsync(entry, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Never let one bad attempt end the worker (STYLE pitfall 12); back off
                    // as for a down relay so a repeating fault cannot spin. The same message
                    // faulting again is the message's doing: it alone goes to the fail-dir.
                    RelayLog.AttemptFailed(_logger, entry.Id, e);
                    _counters.Failed();
                    if (++entry.Faults >= 2)
                    {
                        _delivery.GiveUp(entry, $"delivery failed twice with an unexpected error: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
                    }
                    else
                    {
                        _delivery.RelayDown($"{e.GetType().Name}: {e.Message}");
                    }
                }
                continue;
            }
            if (_delivery.Connected)
            {
                var idleAt = _delivery.LastActivity + MonotonicTime.ToTicks(_time, IdleTimeout);
                if (now >= idleAt)
                {
                    _delivery.Disconnected();
                    await _transport.DisconnectAsync(stop).ConfigureAwait(false);
                    // Off the socket engine's thread before the loop polls the queue's files.
                    await Task.Yield();
                    continue;
                }
                deadline = deadline is { } d ? Math.Min(d, idleAt) : idleAt;
            }
            if (QueuePoll > TimeSpan.Zero && !_pollStopped)
            {
                deadline = deadline is { } d ? Math.Min(d, _sync.NextPoll) : _sync.NextPoll;
            }
            _busy.Idle();
            await _wakeup.WaitAsync(deadline is { } due ? _time.GetElapsedTime(now, due) : null, stop).ConfigureAwait(false);
            _busy.Working();
        }
    }

    // On shutdown: one last attempt for each queued message, bounded by --shutdown-timeout;
    // whatever is left stays in the durable queue for the next start.
    private async Task DrainAsync()
    {
        using var bound = new CancellationTokenSource(_settings.ShutdownTimeout, _time);
        var snapshot = _queue.Snapshot();
        try
        {
            foreach (var entry in snapshot)
            {
                if (await _delivery.AttemptAsync(entry, bound.Token).ConfigureAwait(false) == RelayFailureKind.ConnectionTransient)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested)
        {
        }
        finally
        {
            using var quit = new CancellationTokenSource(_settings.ShutdownTimeout, _time);
            try
            {
                await _transport.DisconnectAsync(quit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            _delivery.Disconnected();
        }
    }

    private static MaildirWriter OpenMaildir(string flag, string path)
    {
        try
        {
            return new MaildirWriter(path);
        }
        catch (IOException e)
        {
            throw new IOException($"{flag} {path}: {MaildirPathError.Describe(path, e)}", e);
        }
    }

    private static FormatOptions CreateFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }
}
