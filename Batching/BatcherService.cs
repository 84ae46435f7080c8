using System.Threading.Channels;
using Failmail.Intake;
using Failmail.Maildir;
using Failmail.Timing;
using Microsoft.Extensions.Logging;

namespace Failmail.Batching;

// The async shell around the Batcher: takes committed messages from a bounded channel (SMTP
// answers 451 when it is full), computes their keys, ticks the batcher at its next deadline
// (DeadlineTimer: a digest leaves on time, whatever --poll is) and hands due digests to the
// sender. --poll keeps the other jobs: listing the store in sender-only mode and the
// hand-off retries. All batching state is owned by the RunAsync loop (BatchIntake
// takes messages in, DigestHandOff builds digests and applies their hand-off, both on that
// loop); other threads see only the channel and the stats snapshot.
//
// A message leaves the store only when every digest holding it (one per recipient) has been
// handed to SendAsync successfully. A failed SendAsync keeps the digest and retries with
// exponential backoff from --poll up to --retry-max.
internal sealed class BatcherService : IMessageSink, IBatchView
{
    public const int QueueCapacity = 10_000;

    // Digests handed over together (one group commit of the outgoing queue) hold about this
    // much content at most, plus one digest: each is in memory twice meanwhile (built, and
    // serialised by the sender). 100 digests of 2 MB from one tick once peaked near 1 GB.
    public const long HandOverWaveBytes = 4L * 1024 * 1024;

    // How long the loop lets a burst gather after its first message before taking it in (see
    // GatherAsync). Messages' deadlines come from their received times, so no digest moves.
    public static readonly TimeSpan DefaultIntakeGather = TimeSpan.FromMilliseconds(5);

    private readonly IDigestSender _sender;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly BatchSettings _settings;
    private readonly bool _pollStore;
    private readonly Batcher _batcher;
    private readonly TimeSpan _poll;
    private readonly TimeSpan _intakeGather;
    private readonly Channel<ReceivedMessage> _channel =
        Channel.CreateBounded<ReceivedMessage>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    // The API's requests (IBatchView), each run on the loop between its other steps.
    private readonly Channel<Func<CancellationToken, Task>> _requests =
        Channel.CreateBounded<Func<CancellationToken, Task>>(new BoundedChannelOptions(64) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly MessageLedger _ledger = new();
    private readonly DigestOutbox _outbox;
    private readonly BatchIntake _intake;
    private readonly DigestHandOff _handOff;
    private readonly DigestBuilder _builder;
    // A --page-threshold notice is in the outbox: hand it over now, not at the next deadline.
    private bool _pagePending;
    private readonly IdleSignal _idle = new();
    private volatile bool _skipFlush;
    private BatcherStats _stats = BatcherStats.Empty;
    // When the loop last made progress, for /healthz and the host's watch (PartWatch).
    private readonly BusyClock _busy;
    // BusyClock.Progressed as one delegate, made once (a method group would allocate per call).
    private readonly Action _progressed;

    // Throws ExpressionException for a broken --batch-expr, --group-expr or --template.
    // pollStore: sender-only mode (--sender without --receiver): the receiver is another process,
    // so every tick lists the store for messages not seen yet.
    // intakeGather: see GatherAsync; zero takes every message in as soon as it is queued.
    public BatcherService(FailmailOptions options, IMessageStore store, IDigestSender sender, ILoggerFactory loggerFactory, TimeProvider timeProvider,
        bool pollStore = false, TimeSpan intakeGather = default, Quarantine? quarantine = null, DigestLimits? limits = null)
        : this(BatchSettings.From(options, limits), store, sender, loggerFactory, timeProvider, pollStore, intakeGather, quarantine)
    {
    }

    public BatcherService(BatchSettings settings, IMessageStore store, IDigestSender sender, ILoggerFactory loggerFactory, TimeProvider timeProvider,
        bool pollStore = false, TimeSpan intakeGather = default, Quarantine? quarantine = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(store);
        _settings = settings;
        _sender = sender ?? throw new ArgumentNullException(nameof(sender));
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _busy = new BusyClock(_time);
        _progressed = _busy.Progressed;
        _logger = loggerFactory.CreateLogger("Failmail.Batching");
        _pollStore = pollStore;
        _intakeGather = intakeGather;
        var keys = new MessageKeyEvaluator(settings.BatchExpr, settings.GroupExpr, _logger, settings.GroupNormalize);
        var builder = _builder = new DigestBuilder(settings.Digest, settings.Template);
        // failmail never flushed with --poll <= 0 (Go's time.Tick returns nil): tick every second.
        _poll = settings.Poll > TimeSpan.Zero ? settings.Poll : TimeSpan.FromSeconds(1);
        var frequency = _time.TimestampFrequency;
        _outbox = new DigestOutbox(_poll, settings.RetryMax, frequency);
        var pager = settings.PageThreshold > 0 && settings.PageWindow > TimeSpan.Zero
            ? new StormPager(settings.PageThreshold, MonotonicTime.ToTicks(_time, settings.PageWindow))
            : null;
        _batcher = new Batcher(MonotonicTime.ToTicks(_time, settings.WaitPeriod), MonotonicTime.ToTicks(_time, settings.MaxWait),
            wheelSlots: 4096, wheelResolution: Math.Max(1, frequency / 100),
            firstWait: MonotonicTime.ToTicks(_time, settings.FirstWait), followUp: MonotonicTime.ToTicks(_time, settings.FollowUpInterval), pager: pager);
        var newest = new NewestMessages();
        var buffer = new MessageReadBuffer();
        _intake = new BatchIntake(store, keys, _batcher, _ledger, newest, _outbox, buffer, quarantine, _time, _logger, settings.MergeDigests);
        _handOff = new DigestHandOff(store, builder, newest, _ledger, _outbox, buffer, quarantine, _time, _logger);
    }

    public bool HasCapacity => _channel.Reader.Count < QueueCapacity;

    public ValueTask AcceptAsync(ReceivedMessage message, CancellationToken cancellationToken) =>
        _channel.Writer.WriteAsync(message, cancellationToken);

    public BatcherStats Stats => Volatile.Read(ref _stats);

    // Active silences, applied where the keys are computed (BatchIntake); null: none.
    public SilenceGate? Silences
    {
        get => _intake.Silences;
        init => _intake.Silences = value;
    }

    public long Silenced => _intake.Silences?.Silenced ?? 0;

    public async Task<IReadOnlyList<OpenBatchView>> OpenBatchesAsync(int limit, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<IReadOnlyList<OpenBatchView>>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _requests.Writer.WriteAsync(_ =>
        {
            var nowTicks = _time.GetTimestamp();
            var nowUtc = _time.GetUtcNow();
            done.TrySetResult([.. _batcher.Snapshot(limit).Select(b => new OpenBatchView(b,
                nowUtc + (b.DueAt == long.MaxValue ? TimeSpan.Zero : _time.GetElapsedTime(nowTicks, Math.Max(nowTicks, b.DueAt)))))]);
            return Task.CompletedTask;
        }, cancellationToken).ConfigureAwait(false);
        return await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> FlushAsync(long id, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _requests.Writer.WriteAsync(async stop =>
        {
            if (_batcher.Flush(id) is not { } due)
            {
                done.TrySetResult(false);
                return;
            }
            _handOff.Enqueue(due);
            try
            {
                // Answered once the digest is handed over (or its retry is scheduled).
                await OnTickAsync(poll: false, stop).ConfigureAwait(false);
            }
            finally
            {
                done.TrySetResult(true);
            }
        }, cancellationToken).ConfigureAwait(false);
        return await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    // When the loop started the step it is in now (monotonic), or null while it waits.
    public long? BusySince => _busy.Since;

    public long BatchesQuarantined => _handOff.BatchesQuarantined;

    // Runs until stop, then flushes every batch (forced) through the sender and returns.
    // flushAbort cancels the final sends (the host bounds shutdown with --shutdown-timeout).
    public async Task RunAsync(CancellationToken stop, CancellationToken flushAbort = default)
    {
        if (_settings.Poll <= TimeSpan.Zero)
        {
            BatchLog.PollNotPositive(_logger, _settings.Poll);
        }
        _busy.Working();
        var loaded = _intake.LoadPending(_progressed);
        BatchLog.Started(_logger, _settings.WaitPeriod, _settings.MaxWait, _poll, loaded);
        using var timer = new PeriodicTimer(_poll, _time);
        Task<bool>? tick = null;
        Task<bool>? read = null;
        Task<bool>? request = null;
        var deadline = new DeadlineTimer(_time);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                Drain();
                if (_pagePending)
                {
                    // A storm notice leaves at once, through the same durable hand-off.
                    _pagePending = false;
                    await OnTickAsync(poll: false, stop).ConfigureAwait(false);
                }
                tick ??= timer.WaitForNextTickAsync(stop).AsTask();
                read ??= _channel.Reader.WaitToReadAsync(stop).AsTask();
                request ??= _requests.Reader.WaitToReadAsync(stop).AsTask();
                // Armed before the loop parks (pitfall 9): a test may advance the clock then.
                var due = deadline.Arm(_batcher.NextDeadline, stop);
                Publish();
                if (!due.IsCompleted)
                {
                    // Not parked with a deadline already past: a test must not see an idle
                    // loop that still has a digest to send.
                    _idle.Park();
                    _busy.Idle();
                    await Task.WhenAny(tick, read, due, request).ConfigureAwait(false);
                    _busy.Working();
                    _idle.Unpark();
                }
                if (read.IsCompleted)
                {
                    _ = await read.ConfigureAwait(false);
                    read = null;
                    await GatherAsync(stop).ConfigureAwait(false);
                }
                if (request.IsCompleted)
                {
                    _ = await request.ConfigureAwait(false);
                    request = null;
                    Drain();
                    while (_requests.Reader.TryRead(out var serve))
                    {
                        await serve(stop).ConfigureAwait(false);
                    }
                }
                if (tick.IsCompleted)
                {
                    _ = await tick.ConfigureAwait(false);
                    tick = null;
                    deadline.Fired();
                    await OnTickAsync(poll: true, stop).ConfigureAwait(false);
                    _idle.TickDone();
                }
                else if (due.IsCompleted)
                {
                    stop.ThrowIfCancellationRequested();
                    // A batch's deadline, between polls: the digest leaves now (issue 13).
                    deadline.Fired();
                    await OnTickAsync(poll: false, stop).ConfigureAwait(false);
                    _idle.DeadlineDone();
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            deadline.Dispose();
            _idle.Unpark();
        }
        await ShutdownAsync(flushAbort).ConfigureAwait(false);
    }

    // A storm is thousands of messages a second, each queued by a receiving thread. Woken for
    // every one, this loop cost a thread-pool wake-up (a futex call and a context switch) per
    // message on the CPUs the sessions need; waiting a few milliseconds after the first one
    // takes the rest of the burst in with a single wake-up. A stop cuts the wait short.
    private async Task GatherAsync(CancellationToken stop)
    {
        if (_intakeGather <= TimeSpan.Zero)
        {
            return;
        }
        _idle.Park(gathering: true);
        try
        {
            await Task.Delay(_intakeGather, _time, stop).ConfigureAwait(false);
        }
        finally
        {
            _idle.Unpark();
        }
    }

    // Reload: the new process loads the store and batches everything again, so this one must
    // not flush (that would send early, and twice). Call before stopping.
    public void SkipFlushOnStop() => _skipFlush = true;

    private async Task ShutdownAsync(CancellationToken flushAbort)
    {
        if (_skipFlush)
        {
            BatchLog.Stopped(_logger, _handOff.DigestsSent, _outbox.Count);
            return;
        }
        Drain();
        if (_pollStore)
        {
            _intake.LoadPending(_progressed);
        }
        foreach (var due in _batcher.FlushAll())
        {
            _handOff.Enqueue(due);
        }
        foreach (var item in _outbox.All())
        {
            if (!item.TryBuild(out var digest))
            {
                _outbox.Sent(item); // quarantined
                continue;
            }
            try
            {
                await _sender.SendAsync(digest, flushAbort).ConfigureAwait(false);
                _handOff.Sent(item);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                BatchLog.ShutdownSendFailed(_logger, e, item.Digest.Recipient);
            }
        }
        _handOff.ReleaseSent();
        _handOff.ForgetBodies();
        Publish();
        BatchLog.Stopped(_logger, _handOff.DigestsSent, _outbox.Count);
    }

    // An async wrapper, so a sender that throws before its first await still yields a task.
    private async Task HandOverAsync(Digest digest, CancellationToken stop) =>
        await _sender.SendAsync(digest, stop).ConfigureAwait(false);

    // poll: the --poll tick, which also lists the store in sender-only mode; otherwise a
    // batch's deadline woke the loop.
    private async Task OnTickAsync(bool poll, CancellationToken stop)
    {
        if (poll && _pollStore)
        {
            _intake.LoadPending(_progressed);
        }
        // Batches that fell due while the last ones were built go in the same round, before
        // the round's one store removal (DigestHandOff.ReleaseSent).
        for (var round = 0; round < 8; round++)
        {
            foreach (var due in _batcher.Tick(_time.GetTimestamp()))
            {
                _handOff.Enqueue(due);
            }
            await HandOverDueAsync(stop).ConfigureAwait(false);
            if (_batcher.NextDeadline is not { } next || next > _time.GetTimestamp())
            {
                break;
            }
        }
        _handOff.ReleaseSent();
        _handOff.ForgetBodies();
        Publish();
    }

    private async Task HandOverDueAsync(CancellationToken stop)
    {
        var now = _time.GetTimestamp();
        var ready = stop.IsCancellationRequested ? [] : _outbox.Due(now);
        // Hand the due digests over together, so the outgoing queue's group commit syncs them
        // once rather than once each; but in waves of HandOverWaveBytes, each digest built only
        // when its wave starts, so one message to 100 recipients is never 100 digests in memory.
        var wave = new List<(DigestOutbox.Entry Item, Task Send)>();
        var waveBytes = 0L;
        foreach (var item in ready)
        {
            if (!item.TryBuild(out var digest))
            {
                _outbox.Sent(item); // quarantined: nothing to hand over
                continue;
            }
            wave.Add((item, HandOverAsync(digest, stop)));
            waveBytes += item.SizeHint;
            if (waveBytes >= HandOverWaveBytes)
            {
                await ApplyWaveAsync(wave, now, stop).ConfigureAwait(false);
                wave.Clear();
                waveBytes = 0;
            }
        }
        await ApplyWaveAsync(wave, now, stop).ConfigureAwait(false);
    }

    // The outcomes of one wave, applied here, in order, on this loop.
    private async Task ApplyWaveAsync(List<(DigestOutbox.Entry Item, Task Send)> wave, long now, CancellationToken stop)
    {
        foreach (var (item, send) in wave)
        {
            try
            {
                await send.ConfigureAwait(false);
                _handOff.Sent(item);
                _busy.Progressed();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The shutdown flush tries again.
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                var delay = _outbox.Failed(item, now);
                BatchLog.SendFailed(_logger, e, item.Digest.Recipient, item.Attempts, delay);
            }
        }
    }

    private void Drain()
    {
        while (_channel.Reader.TryRead(out var message))
        {
            _intake.Process(message);
            _busy.Progressed();
        }
        QueuePages();
    }

    // --page-threshold notices raised by the messages just taken in go into the outbox like a
    // digest (retried the same way), with no messages of their own to release.
    private void QueuePages()
    {
        foreach (var page in _batcher.TakePages())
        {
            BatchLog.StormPaged(_logger, page.Count, page.BatchKey, _settings.PageWindow, _settings.PageTo);
            _outbox.Add(_builder.Page(page, _settings.PageTo, _settings.PageWindow, _time.GetUtcNow()));
            _pagePending = true;
        }
    }

    private void Publish()
    {
        var oldest = _ledger.OldestPending() is { } received ? _time.GetUtcNow() - received : TimeSpan.Zero;
        Volatile.Write(ref _stats, new BatcherStats(
            _batcher.ActiveBatches + _outbox.Count,
            _batcher.ActiveMessages,
            _batcher.LastReceived == default ? DateTimeOffset.MinValue : _batcher.LastReceived,
            _ledger.Pending,
            oldest < TimeSpan.Zero ? TimeSpan.Zero : oldest,
            _handOff.DigestsSent,
            _outbox.Count));
    }

    // Test hook (STYLE pitfall 9): completes once the loop is parked on its timer and channel
    // with nothing queued and at least minTicks ticks processed. Only then may a test Advance
    // a FakeTimeProvider.
    internal Task WaitIdleAsync(long minTicks = 0, CancellationToken cancellationToken = default) =>
        _idle.WaitAsync(minTicks, () => _channel.Reader.Count == 0, cancellationToken);

    internal long TicksProcessed => _idle.Ticks;

    // Rounds the loop ran because a batch's deadline came, not its poll.
    internal long DeadlinesProcessed => _idle.Deadlines;

    // Test hook (pitfall 9): as WaitIdleAsync, once at least minDeadlines deadline rounds ran.
    internal Task WaitDeadlinesAsync(long minDeadlines, CancellationToken cancellationToken = default) =>
        _idle.WaitAsync(0, () => _channel.Reader.Count == 0, cancellationToken, minDeadlines);

    // Test hook (pitfall 9): completes once the loop waits out its intake gather.
    internal Task WaitGatheringAsync(CancellationToken cancellationToken = default) => _idle.WaitGatheringAsync(cancellationToken);
}
