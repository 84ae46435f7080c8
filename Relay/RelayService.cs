using Failmail.Batching;
using Failmail.Maildir;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Failmail.Relay;

// A durable outgoing queue in front of the relay. SendAsync commits the digest to the
// outgoing store (--queue-dir) and returns: that is the hand-off that lets the batcher
// delete the source messages. RunAsync is the one delivery worker: it sends the queue in
// order over one reused connection, backs off on transient failures (Postfix's split:
// connection trouble, timeouts, TLS and 4xx are retried; 5xx is final) and moves a message
// to --fail-dir exactly once, on a 5xx or when it outlives --queue-lifetime.
//
// Retry policy, so a failing relay never becomes a retry storm:
// - 4xx for one message: only that message waits, RetryMin doubling to RetryMax.
// - the relay unusable (refused, dropped, timeout, TLS, 421, AUTH): the whole worker waits,
//   with the same doubling; expired messages go to the fail-dir at that point.
internal sealed class RelayService : IDigestSender, IAsyncDisposable
{
    private static readonly FormatOptions Format = CreateFormat();

    private readonly FailmailOptions _options;
    private readonly IMessageStore _outgoing;
    private readonly IRelayTransport _transport;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly MaildirWriter _failDir;
    private readonly MaildirWriter? _allDir;
    private readonly RelayQueue _queue = new();
    private readonly RelayWakeup _wakeup;
    private readonly RelayCounters _counters = new();

    // Worker-only state.
    private bool _connected;
    private volatile bool _skipDrain;
    private volatile bool _pollStopped;
    private long _lastActivity;
    private int _connectionFailures;
    private long _relayReadyAt;
    private long _nextPoll;
    // Ids this worker took out of the queue (sent, fail-dir, vanished). A poll must not
    // bring one back while its files linger (a failed Remove), or it would be sent again
    // every poll; an id leaves this set once a poll no longer finds it in the store.
    private readonly HashSet<string> _forgotten = new(StringComparer.Ordinal);
    // Unknown ids the last poll saw. An id is adopted only when two polls in a row see it:
    // during a reload the parent's worker still sends what its batcher queues, within
    // milliseconds, and adopting such an entry at once would send it twice.
    private HashSet<string> _sighted = new(StringComparer.Ordinal);

    public RelayService(FailmailOptions options, IMessageStore outgoing, IRelayTransport transport, ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(outgoing);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        // failmail turned the working directory into a maildir for an empty --fail-dir.
        if (string.IsNullOrEmpty(options.FailDir))
        {
            throw new ArgumentException("--fail-dir must not be empty", nameof(options));
        }
        _options = options;
        _outgoing = outgoing;
        _transport = transport;
        _logger = loggerFactory.CreateLogger("Failmail.Relay");
        _time = timeProvider;
        _failDir = OpenMaildir("--fail-dir", options.FailDir);
        _allDir = string.IsNullOrEmpty(options.AllDir) ? null : OpenMaildir("--all-dir", options.AllDir);
        _wakeup = new RelayWakeup(timeProvider);
        QueuePoll = options.Poll;
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

    public RelayCounters Counters => _counters;
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
        using var buffer = new MemoryStream(SerialisedSizeHint(digest.Message));
        await digest.Message.WriteToAsync(Format, buffer, cancellationToken).ConfigureAwait(false);
        var envelope = new Envelope(_options.From, [digest.Recipient], _time.GetUtcNow(), "");
        _ = await EnqueueAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), envelope, cancellationToken).ConfigureAwait(false);
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
        _queue.Add(queued);
        RelayLog.Queued(_logger, queued.Id, envelope.Recipients);
        _wakeup.Signal();
        return queued;
    }

    // The delivery worker; run exactly one. Dispose the service only after it returned.
    public async Task RunAsync(CancellationToken stop)
    {
        _queue.Load(_outgoing.LoadPending());
        _nextPoll = _time.GetTimestamp() + Ticks(QueuePoll);
        RelayLog.Started(_logger, _transport is DebugRelayTransport ? "debug" : _options.RelayAddr, QueueLength);
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
            // Wake-ups that arrived while we worked are answered by looking at the queue now.
            _wakeup.Clear();
            var now = _time.GetTimestamp();
            if (QueuePoll > TimeSpan.Zero && now >= _nextPoll && !_pollStopped)
            {
                PollStore(now);
            }
            long? deadline;
            if (now < _relayReadyAt)
            {
                deadline = QueueLength > 0 ? _relayReadyAt : null;
            }
            else if (_queue.NextDue(now, out deadline) is { } entry)
            {
                try
                {
                    // Not cancelled by stop: a transaction cut short after the relay took the
                    // data leaves its outcome unknown, and the shutdown drain would send the
                    // digest again. --relay-timeout bounds the attempt instead.
                    _ = await AttemptAsync(entry, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Never let one bad attempt end the worker (STYLE pitfall 12); back off
                    // as for a down relay so a repeating fault cannot spin.
                    RelayLog.AttemptFailed(_logger, entry.Id, e);
                    _counters.Failed();
                    RelayDown($"{e.GetType().Name}: {e.Message}");
                }
                continue;
            }
            if (_connected)
            {
                var idleAt = _lastActivity + Ticks(IdleTimeout);
                if (now >= idleAt)
                {
                    _connected = false;
                    await _transport.DisconnectAsync(stop).ConfigureAwait(false);
                    // Off the socket engine's thread before the loop polls the queue's files.
                    await Task.Yield();
                    continue;
                }
                deadline = deadline is { } d ? Math.Min(d, idleAt) : idleAt;
            }
            if (QueuePoll > TimeSpan.Zero && !_pollStopped)
            {
                deadline = deadline is { } d ? Math.Min(d, _nextPoll) : _nextPoll;
            }
            await _wakeup.WaitAsync(deadline is { } due ? _time.GetElapsedTime(now, due) : null, stop).ConfigureAwait(false);
        }
    }

    // On shutdown: one last attempt for each queued message, bounded by --shutdown-timeout;
    // whatever is left stays in the durable queue for the next start.
    private async Task DrainAsync()
    {
        using var bound = new CancellationTokenSource(_options.ShutdownTimeout, _time);
        var snapshot = _queue.Snapshot();
        try
        {
            foreach (var entry in snapshot)
            {
                if (await AttemptAsync(entry, bound.Token).ConfigureAwait(false) == RelayFailureKind.ConnectionTransient)
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
            using var quit = new CancellationTokenSource(_options.ShutdownTimeout, _time);
            try
            {
                await _transport.DisconnectAsync(quit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            _connected = false;
        }
    }

    // Returns the failure class, or null when the message left the queue (sent or fail-dir).
    private async Task<RelayFailureKind?> AttemptAsync(RelayQueueEntry entry, CancellationToken cancellationToken)
    {
        var envelope = entry.Message.Envelope;
        MimeMessage message;
        try
        {
            var stream = _outgoing.OpenRead(entry.Id);
            await using (stream.ConfigureAwait(false))
            {
                message = await MimeMessage.LoadAsync(stream, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (FileNotFoundException)
        {
            // Gone from the store behind our back: nothing left to send.
            Forget(entry);
            return null;
        }
        catch (FormatException e)
        {
            _counters.Failed();
            MoveToFailDir(entry, $"unparsable message: {e.Message}");
            return RelayFailureKind.Permanent;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            RelayLog.Unreadable(_logger, entry.Id, e.Message);
            entry.NotBefore = _time.GetTimestamp() + Ticks(Backoff(++entry.Attempts));
            return RelayFailureKind.MessageTransient;
        }

        RelayException failure;
        var started = _time.GetTimestamp();
        try
        {
            await _transport.SendAsync(message, envelope.From, envelope.Recipients, cancellationToken).ConfigureAwait(false);
            _counters.SendDuration.Observe(_time.GetElapsedTime(started));
            // With inline socket completions (Program.cs) MailKit's last read resumes us on
            // the socket engine's thread, which every SMTP session shares: the queue's file
            // work (remove, fail-dir, the next digest's read) belongs on a pool thread.
            await Task.Yield();
            Delivered(entry, message);
            return null;
        }
        catch (RelayException e)
        {
            failure = e;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A transport bug or an error it did not classify: treat the relay as unusable.
            failure = new RelayException(RelayFailureKind.ConnectionTransient, $"{e.GetType().Name}: {e.Message}", e);
        }
        // As above: the failure's file work must not hold the socket engine's thread.
        await Task.Yield();
        _counters.SendDuration.Observe(_time.GetElapsedTime(started));
        _counters.Failed();
        switch (failure.Kind)
        {
            case RelayFailureKind.Permanent:
                Touched();
                MoveToFailDir(entry, failure.Message);
                break;
            case RelayFailureKind.MessageTransient:
                Touched();
                FailingSince();
                Deferred(entry, failure.Message);
                break;
            default:
                RelayDown(failure.Message);
                break;
        }
        return failure.Kind;
    }

    private void Delivered(RelayQueueEntry entry, MimeMessage message)
    {
        Touched();
        var nowUtc = _time.GetUtcNow();
        Forget(entry);
        _counters.Succeeded(nowUtc);
        var latency = (long)(nowUtc - entry.Message.Envelope.Received).TotalMilliseconds;
        RelayLog.Sent(_logger, entry.Id, message.MessageId ?? "(no Message-ID)", entry.Recipients, latency);
    }

    // The relay answered: the connection works, the worker needs no backoff.
    private void Touched()
    {
        _connected = true;
        _lastActivity = _time.GetTimestamp();
        _connectionFailures = 0;
        _relayReadyAt = 0;
    }

    private void FailingSince() => _counters.Unhealthy(_time.GetUtcNow());

    private void Deferred(RelayQueueEntry entry, string reason)
    {
        entry.Attempts++;
        if (Expired(entry))
        {
            MoveToFailDir(entry, $"{reason}; still undeliverable after --queue-lifetime {_options.QueueLifetime}");
            return;
        }
        var delay = Backoff(entry.Attempts);
        entry.NotBefore = _time.GetTimestamp() + Ticks(delay);
        _counters.Retried();
        RelayLog.Deferred(_logger, entry.Id, entry.Recipients, reason, _time.GetUtcNow() + delay);
    }

    private void RelayDown(string reason)
    {
        _connected = false;
        FailingSince();
        foreach (var entry in _queue.Where(Expired))
        {
            MoveToFailDir(entry, $"{reason}; still undeliverable after --queue-lifetime {_options.QueueLifetime}");
        }
        var delay = Backoff(++_connectionFailures);
        _relayReadyAt = _time.GetTimestamp() + Ticks(delay);
        var queued = QueueLength;
        if (queued > 0)
        {
            _counters.Retried();
        }
        RelayLog.RelayDown(_logger, reason, queued, _time.GetUtcNow() + delay);
    }

    private bool Expired(RelayQueueEntry entry) =>
        _time.GetUtcNow() - entry.Message.Envelope.Received >= _options.QueueLifetime;

    // Writes the queued bytes to the fail-dir (tmp/, then new/) and only then forgets them,
    // so each message lands there once. If the fail-dir cannot be written the message stays
    // queued and is tried again later: nothing is dropped.
    private void MoveToFailDir(RelayQueueEntry entry, string reason)
    {
        string name;
        try
        {
            byte[] bytes;
            using (var stream = _outgoing.OpenRead(entry.Id))
            using (var copy = new MemoryStream())
            {
                stream.CopyTo(copy);
                bytes = copy.ToArray();
            }
            name = _failDir.Deliver(bytes);
        }
        catch (FileNotFoundException)
        {
            Forget(entry);
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            RelayLog.FailDirWriteFailed(_logger, entry.Id, e.Message);
            entry.NotBefore = _time.GetTimestamp() + Ticks(Backoff(++entry.Attempts));
            return;
        }
        Forget(entry);
        _counters.WroteFailDir();
        RelayLog.MovedToFailDir(_logger, entry.Id, entry.Recipients, name, reason);
    }

    // Runs on the worker only, between attempts, so no Forget is half done meanwhile.
    private void PollStore(long now)
    {
        IReadOnlyList<ReceivedMessage> pending;
        try
        {
            pending = _outgoing.LoadPending();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            RelayLog.PollFailed(_logger, e.Message);
            _nextPoll = now + Ticks(QueuePoll);
            return;
        }
        var took = _time.GetTimestamp() - now;
        _nextPoll = now + Math.Max(Ticks(QueuePoll), 10 * took);
        var present = new HashSet<string>(StringComparer.Ordinal);
        var sighted = new HashSet<string>(StringComparer.Ordinal);
        var found = new List<ReceivedMessage>();
        foreach (var message in pending)
        {
            _ = present.Add(message.Id);
            if (_forgotten.Contains(message.Id) || _queue.Contains(message.Id))
            {
                continue;
            }
            if (_sighted.Contains(message.Id))
            {
                found.Add(message);
            }
            else
            {
                _ = sighted.Add(message.Id);
            }
        }
        _forgotten.IntersectWith(present);
        _sighted = sighted;
        if (found.Count == 0)
        {
            return;
        }
        foreach (var message in found)
        {
            _queue.Add(message);
        }
        // Someone queued mail by hand (resend): they expect a try now, not after the backoff.
        _relayReadyAt = 0;
        _connectionFailures = 0;
        RelayLog.FoundInQueue(_logger, found.Count);
    }

    private void Forget(RelayQueueEntry entry)
    {
        _ = _forgotten.Add(entry.Id);
        _queue.Remove(entry);
        try
        {
            _outgoing.Remove([entry.Id]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // It is out (relayed or in the fail-dir); at worst a restart sends it again.
            RelayLog.RemoveFailed(_logger, entry.Id, e.Message);
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

    internal TimeSpan Backoff(int failures) => RelayBackoff.Delay(failures, _options.RetryMin, _options.RetryMax);

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private static FormatOptions CreateFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }
}
