using System.Threading.Channels;
using Failmail.Maildir;
using Failmail.Relay;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Failmail.Batching;

// The async shell around the Batcher: takes committed messages from a bounded channel (SMTP
// answers 451 when it is full), computes their keys, ticks the batcher every --poll and hands
// due digests to the sender. All batching state is owned by the RunAsync loop; other threads
// see only the channel and the stats snapshot.
//
// A message leaves the store only when every digest holding it (one per recipient) has been
// handed to SendAsync successfully. A failed SendAsync keeps the digest and retries with
// exponential backoff from --poll up to --retry-max.
internal sealed class BatcherService : IMessageSink
{
    public const int QueueCapacity = 10_000;

    private readonly IMessageStore _store;
    private readonly IDigestSender _sender;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly FailmailOptions _options;
    private readonly bool _pollStore;
    private readonly MessageExpression _batchExpr;
    private readonly MessageExpression _groupExpr;
    private readonly bool _needsBody;
    private readonly List<HeaderSpan> _headerSpans = new();
    private readonly DigestBuilder _builder;
    private readonly Batcher _batcher;
    private readonly TimeSpan _poll;
    private readonly Channel<ReceivedMessage> _channel =
        Channel.CreateBounded<ReceivedMessage>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly MessageLedger _ledger = new();
    private readonly NewestMessages _newest = new();
    private readonly DigestOutbox _outbox;
    private readonly IdleSignal _idle = new();
    private long _digestsSent;
    private volatile bool _skipFlush;
    private BatcherStats _stats = BatcherStats.Empty;

    // Throws ExpressionException for a broken --batch-expr, --group-expr or --template.
    // pollStore: sender-only mode (--sender without --receiver): the receiver is another process,
    // so every tick lists the store for messages not seen yet.
    public BatcherService(FailmailOptions options, IMessageStore store, IDigestSender sender, ILoggerFactory loggerFactory, TimeProvider timeProvider, bool pollStore = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options;
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _sender = sender ?? throw new ArgumentNullException(nameof(sender));
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _logger = loggerFactory.CreateLogger("Failmail.Batching");
        _pollStore = pollStore;
        _batchExpr = MessageExpression.Create("--batch-expr", options.BatchExpr);
        _groupExpr = MessageExpression.Create("--group-expr", options.GroupExpr);
        _needsBody = _batchExpr.NeedsBody || _groupExpr.NeedsBody;
        var template = string.IsNullOrEmpty(options.Template) ? null : DigestTemplate.Load(options.Template);
        _builder = new DigestBuilder(options, template);
        // failmail never flushed with --poll <= 0 (Go's time.Tick returns nil): tick every second.
        _poll = options.Poll > TimeSpan.Zero ? options.Poll : TimeSpan.FromSeconds(1);
        var frequency = _time.TimestampFrequency;
        _outbox = new DigestOutbox(_poll, options.RetryMax, frequency);
        _batcher = new Batcher(ToTicks(options.WaitPeriod), ToTicks(options.MaxWait), Batcher.DefaultMaxMessages,
            wheelSlots: 4096, wheelResolution: Math.Max(1, frequency / 100));
    }

    public bool HasCapacity => _channel.Reader.Count < QueueCapacity;

    public ValueTask AcceptAsync(ReceivedMessage message, CancellationToken cancellationToken) =>
        _channel.Writer.WriteAsync(message, cancellationToken);

    public BatcherStats Stats => Volatile.Read(ref _stats);

    // Runs until stop, then flushes every batch (forced) through the sender and returns.
    // flushAbort cancels the final sends (the host bounds shutdown with --shutdown-timeout).
    public async Task RunAsync(CancellationToken stop, CancellationToken flushAbort = default)
    {
        if (_options.Poll <= TimeSpan.Zero)
        {
            BatchLog.PollNotPositive(_logger, _options.Poll);
        }
        var loaded = LoadFromStore();
        BatchLog.Started(_logger, _options.WaitPeriod, _options.MaxWait, _poll, loaded);
        using var timer = new PeriodicTimer(_poll, _time);
        Task<bool>? tick = null;
        Task<bool>? read = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                Drain();
                tick ??= timer.WaitForNextTickAsync(stop).AsTask();
                read ??= _channel.Reader.WaitToReadAsync(stop).AsTask();
                Publish();
                _idle.Park();
                await Task.WhenAny(tick, read).ConfigureAwait(false);
                _idle.Unpark();
                if (read.IsCompleted)
                {
                    _ = await read.ConfigureAwait(false);
                    read = null;
                }
                if (tick.IsCompleted)
                {
                    _ = await tick.ConfigureAwait(false);
                    tick = null;
                    await OnTickAsync(stop).ConfigureAwait(false);
                    _idle.TickDone();
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            _idle.Unpark();
        }
        await ShutdownAsync(flushAbort).ConfigureAwait(false);
    }

    // Reload: the new process loads the store and batches everything again, so this one must
    // not flush (that would send early, and twice). Call before stopping.
    public void SkipFlushOnStop() => _skipFlush = true;

    private async Task ShutdownAsync(CancellationToken flushAbort)
    {
        if (_skipFlush)
        {
            var handedOver = Interlocked.Read(ref _digestsSent);
            BatchLog.Stopped(_logger, handedOver, _outbox.Count);
            return;
        }
        Drain();
        if (_pollStore)
        {
            LoadFromStore();
        }
        foreach (var due in _batcher.FlushAll())
        {
            Enqueue(due);
        }
        foreach (var item in _outbox.All())
        {
            try
            {
                await _sender.SendAsync(item.Digest, flushAbort).ConfigureAwait(false);
                Sent(item);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                BatchLog.ShutdownSendFailed(_logger, e, item.Digest.Recipient);
            }
        }
        Publish();
        var sent = Interlocked.Read(ref _digestsSent);
        BatchLog.Stopped(_logger, sent, _outbox.Count);
    }

    // An async wrapper, so a sender that throws before its first await still yields a task.
    private async Task HandOverAsync(Digest digest, CancellationToken stop) =>
        await _sender.SendAsync(digest, stop).ConfigureAwait(false);

    private async Task OnTickAsync(CancellationToken stop)
    {
        if (_pollStore)
        {
            LoadFromStore();
        }
        foreach (var due in _batcher.Tick(_time.GetTimestamp()))
        {
            Enqueue(due);
        }
        var now = _time.GetTimestamp();
        var ready = stop.IsCancellationRequested ? [] : _outbox.Due(now);
        // Hand the due digests over together: the outgoing queue's group commit then syncs them
        // once rather than once each. Their outcomes are applied here, in order, on this loop.
        var sends = ready.Select(item => HandOverAsync(item.Digest, stop)).ToList();
        for (var i = 0; i < ready.Count; i++)
        {
            try
            {
                await sends[i].ConfigureAwait(false);
                Sent(ready[i]);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The shutdown flush tries again.
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                var delay = _outbox.Failed(ready[i], now);
                BatchLog.SendFailed(_logger, e, ready[i].Digest.Recipient, ready[i].Attempts, delay);
            }
        }
        Publish();
    }

    private void Enqueue(DueBatch due)
    {
        var held = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var group in due.Groups)
        {
            if (_newest.Take(due.BatchKey, due.Recipient, group.Key, group.LastMessageId) is { } bytes)
            {
                held[group.LastMessageId] = bytes;
            }
        }
        var digest = _builder.BuildWithBodies(due, id => LoadBody(id, held.GetValueOrDefault(id)), _time.GetUtcNow());
        _outbox.Add(digest);
    }

    // A digest shows the body of each group's last message: from the bytes kept since it was
    // batched, else read back from the store; plain ones skip MimeKit.
    private string LoadBody(string id, byte[]? held)
    {
        if ((held ?? StoredMessages.Read(_store, id, _logger)) is not { } bytes)
        {
            return DigestBuilder.NoLongerStored;
        }
        return MessageText.TryPlainBody(bytes, _headerSpans, out var body)
            ? body
            : MessageText.Body(StoredMessages.Parse(bytes, id, _logger));
    }

    private void Sent(DigestOutbox.Entry item)
    {
        _outbox.Sent(item);
        Interlocked.Increment(ref _digestsSent);
        BatchLog.DigestSent(_logger, item.Digest.Recipient, item.Digest.BatchKey, item.Digest.MessageIds.Count);
        var done = _ledger.Delivered(item.Digest.MessageIds);
        if (done.Count == 0)
        {
            return;
        }
        try
        {
            _store.Remove(done);
            _ledger.Removed(done);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            BatchLog.RemoveFailed(_logger, e, done.Count);
        }
    }

    private int LoadFromStore()
    {
        IReadOnlyList<ReceivedMessage> pending;
        try
        {
            pending = _store.LoadPending();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            BatchLog.LoadPendingFailed(_logger, e);
            return 0;
        }
        var added = 0;
        foreach (var message in pending)
        {
            if (Process(message))
            {
                added++;
            }
        }
        return added;
    }

    private void Drain()
    {
        while (_channel.Reader.TryRead(out var message))
        {
            Process(message);
        }
    }

    // Never lets one message stop the loop: an unexpected failure is logged and the message is
    // left in the store (a later listing or the next start tries it again).
    private bool Process(ReceivedMessage message)
    {
        if (!_ledger.TryTrack(message.Id))
        {
            return false;
        }
        try
        {
            return Batch(message);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            BatchLog.BatchingFailed(_logger, e, message.Id);
            _ledger.Forget(message.Id);
            return false;
        }
    }

    private bool Batch(ReceivedMessage message)
    {
        var bytes = StoredMessages.Read(_store, message.Id, _logger);
        if (bytes is null)
        {
            _ledger.Forget(message.Id);
            return false;
        }
        var recipients = Recipients(message.Envelope);
        if (recipients.Count == 0)
        {
            BatchLog.NoRecipients(_logger, message.Id);
            return false;
        }
        string batchKey, groupKey, subject;
        // The common case: keys from headers alone, so the header block is all we parse.
        if (!_needsBody && MessageHead.TryParse(bytes, _headerSpans, out var head) && !head.Contains(DigestBuilder.MarkerHeader))
        {
            DotLiquid.Hash? variables = null;
            batchKey = Evaluate(_batchExpr, head, ref variables, message);
            groupKey = Evaluate(_groupExpr, head, ref variables, message);
            subject = head.Subject();
        }
        else
        {
            var mime = StoredMessages.Parse(bytes, message.Id, _logger);
            if (DigestBuilder.IsDigest(mime))
            {
                _ledger.Expect(message.Id, recipients.Count, message.Envelope.Received);
                BatchLog.PassThrough(_logger, message.Id, recipients.Count);
                foreach (var recipient in recipients)
                {
                    _outbox.Add(DigestBuilder.PassThrough(recipient, mime, message.Id));
                }
                return true;
            }
            var variables = MessageVariables.Build(mime, message.Envelope, _needsBody);
            batchKey = Evaluate(_batchExpr, variables, message.Id);
            groupKey = Evaluate(_groupExpr, variables, message.Id);
            subject = MessageText.Subject(mime);
        }
        var batched = new BatchedMessage(message.Id, batchKey, groupKey, subject, recipients, message.Envelope.Received);
        _ledger.Expect(message.Id, recipients.Count, message.Envelope.Received);
        _batcher.Add(batched, ToTimestamp(message.Envelope.Received));
        foreach (var recipient in recipients)
        {
            _newest.Add(batchKey, recipient, groupKey, message.Id, bytes);
        }
        BatchLog.Batched(_logger, message.Id, batchKey, groupKey, recipients.Count);
        return true;
    }

    // The distinct normalised envelope recipients; one recipient (the usual case) without LINQ.
    private static List<string> Recipients(Envelope envelope) =>
        envelope.Recipients.Count == 1
            ? [RecipientAddress.Normalize(envelope.Recipients[0])]
            : envelope.Recipients.Select(RecipientAddress.Normalize).Distinct(StringComparer.Ordinal).ToList();

    // A header lookup needs no variables; any other expression gets them, built once per message.
    private string Evaluate(MessageExpression expression, MessageHead head, ref DotLiquid.Hash? variables, ReceivedMessage message)
    {
        if (expression.HeaderName is { } name)
        {
            try
            {
                return head.Get(name) ?? "";
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                BatchLog.ExpressionFailed(_logger, e, expression.Flag, message.Id);
                return "";
            }
        }
        variables ??= MessageVariables.Build(head.Values(), message.Envelope, "");
        return Evaluate(expression, variables, message.Id);
    }

    private string Evaluate(MessageExpression expression, DotLiquid.Hash variables, string id)
    {
        try
        {
            return expression.Evaluate(variables);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            BatchLog.ExpressionFailed(_logger, e, expression.Flag, id);
            return "";
        }
    }

    // The wall-clock receive time on the monotonic timeline: an old message (from a restart)
    // gets an old timestamp, so its batch is due soon.
    private long ToTimestamp(DateTimeOffset received)
    {
        var nowTs = _time.GetTimestamp();
        var age = _time.GetUtcNow() - received;
        return age <= TimeSpan.Zero ? nowTs : nowTs - ToTicks(age);
    }

    private long ToTicks(TimeSpan span) =>
        (long)Math.Min(span.TotalSeconds * _time.TimestampFrequency, long.MaxValue / 4);

    private void Publish()
    {
        var oldest = _ledger.OldestPending() is { } received ? _time.GetUtcNow() - received : TimeSpan.Zero;
        Volatile.Write(ref _stats, new BatcherStats(
            _batcher.ActiveBatches + _outbox.Count,
            _batcher.ActiveMessages,
            _batcher.LastReceived == default ? DateTimeOffset.MinValue : _batcher.LastReceived,
            _ledger.Pending,
            oldest < TimeSpan.Zero ? TimeSpan.Zero : oldest,
            Interlocked.Read(ref _digestsSent),
            _outbox.Count));
    }

    // Test hook (STYLE pitfall 9): completes once the loop is parked on its timer and channel
    // with nothing queued and at least minTicks ticks processed. Only then may a test Advance
    // a FakeTimeProvider.
    internal Task WaitIdleAsync(long minTicks = 0, CancellationToken cancellationToken = default) =>
        _idle.WaitAsync(minTicks, () => _channel.Reader.Count == 0, cancellationToken);

    internal long TicksProcessed => _idle.Ticks;
}
