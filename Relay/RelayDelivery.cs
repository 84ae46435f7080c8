using Failmail.Batching;
using Failmail.Maildir;
using Failmail.Timing;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Failmail.Relay;

// One relay attempt for a queued entry and everything that follows from its outcome, for
// the single delivery worker (RelayService.RunAsync). Postfix's split: connection trouble,
// timeouts, TLS and 4xx are retried; 5xx is final. A message goes to --fail-dir exactly
// once, on a 5xx or when it outlives --queue-lifetime.
//
// Retry policy, so a failing relay never becomes a retry storm:
// - 4xx for one message: only that message waits, RetryMin doubling to RetryMax.
// - the relay unusable (refused, dropped, timeout, TLS, 421, AUTH): the whole worker waits
//   (RelayReadyAt), with the same doubling; expired messages go to the fail-dir at that point.
//   With a failover list the transport has already tried every relay (each skipped for its
//   own backoff) and the worker waits until the first skip ends.
internal sealed class RelayDelivery
{
    private readonly RelaySettings _settings;
    private readonly IMessageStore _outgoing;
    private readonly IRelayTransport _transport;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly RelayQueue _queue;
    private readonly RelayQueueSync _sync;
    private readonly RelayCounters _counters;
    private readonly MaildirWriter _failDir;
    private int _connectionFailures;

    public RelayDelivery(RelaySettings settings, IMessageStore outgoing, IRelayTransport transport, ILogger logger, TimeProvider time,
        RelayQueue queue, RelayQueueSync sync, RelayCounters counters, MaildirWriter failDir)
    {
        _settings = settings;
        _outgoing = outgoing;
        _transport = transport;
        _logger = logger;
        _time = time;
        _queue = queue;
        _sync = sync;
        _counters = counters;
        _failDir = failDir;
    }

    // Whether the transport holds a connection that the relay last answered on.
    // Where each attempt's outcome is recorded for the API (issue 15); null: nowhere.
    public IDigestHistory? History { get; set; }

    // The history's text of the digest being recorded (Record); made on first use.
    private CappedBuffer? _historyText;

    public bool Connected { get; private set; }

    // A TimeProvider timestamp: when the relay last answered.
    public long LastActivity { get; private set; }

    // A TimeProvider timestamp: no attempt before it while the relay is down. 0 = ready.
    public long RelayReadyAt { get; private set; }

    // Returns the failure class, or null when the message left the queue (sent or fail-dir).
    public async Task<RelayFailureKind?> AttemptAsync(RelayQueueEntry entry, CancellationToken cancellationToken)
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
            _sync.Forget(entry);
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
            entry.NotBefore = _time.GetTimestamp() + MonotonicTime.ToTicks(_time, Backoff(++entry.Attempts));
            return RelayFailureKind.MessageTransient;
        }

        RelayException failure;
        var started = _time.GetTimestamp();
        // A digest over the relay's SIZE, or refused for its size, is re-rendered smaller from
        // its queued text and sent again at once (DigestShrinker); the queued bytes stay as
        // they are, so a restart re-renders it the same way. Only one that cannot get small
        // enough goes to the fail-dir.
        var shrinks = 0;
        while (true)
        {
            if (_transport.MaxSize is { } advertised && DigestBuilder.IsDigest(message) && DigestBuilder.SerialisedSize(message) > advertised
                && DigestShrinker.TryShrink(message, advertised, _settings.MaxDigestGroups, out var fitted))
            {
                RelayLog.DigestShrunk(_logger, entry.Id, advertised);
                message = fitted;
            }
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
            catch (RelayException e) when (e.TooLarge && shrinks++ < 4 && DigestBuilder.IsDigest(message))
            {
                // Refused for its size though under any SIZE we knew (or none was stated):
                // half its size, or the SIZE the relay has told us since.
                var size = DigestBuilder.SerialisedSize(message);
                var target = _transport.MaxSize is { } stated && stated < size ? stated : size / 2;
                if (!DigestShrinker.TryShrink(message, target, _settings.MaxDigestGroups, out var smaller))
                {
                    failure = e;
                    break;
                }
                RelayLog.DigestShrunk(_logger, entry.Id, target);
                message = smaller;
            }
            catch (RelayException e)
            {
                failure = e;
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A transport bug or an error it did not classify: treat the relay as unusable.
                failure = new RelayException(RelayFailureKind.ConnectionTransient, $"{e.GetType().Name}: {e.Message}", e);
                break;
            }
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
                Record(entry, message, "queued", failure.Message);
                break;
            default:
                RelayDown(failure.Message);
                Record(entry, message, "queued", failure.Message);
                break;
        }
        return failure.Kind;
    }

    // The relay is unusable: the whole worker backs off, and what has expired meanwhile
    // goes to the fail-dir now.
    public void RelayDown(string reason)
    {
        Connected = false;
        FailingSince();
        foreach (var entry in _queue.Where(Expired))
        {
            MoveToFailDir(entry, $"{reason}; still undeliverable after --queue-lifetime {_settings.QueueLifetime}");
        }
        var now = _time.GetTimestamp();
        var delay = Backoff(++_connectionFailures);
        RelayReadyAt = now + MonotonicTime.ToTicks(_time, delay);
        // A failover list knows when its first relay's skip ends: wait for exactly that.
        if (_transport.ReadyAt is { } relayReady && relayReady > now)
        {
            RelayReadyAt = relayReady;
            delay = _time.GetElapsedTime(now, relayReady);
        }
        var queued = _queue.Count;
        if (queued > 0)
        {
            _counters.Retried();
        }
        RelayLog.RelayDown(_logger, reason, queued, _time.GetUtcNow() + delay);
    }

    // The worker closed the connection (idle, or at shutdown).
    public void Disconnected() => Connected = false;

    // Ends the worker-wide backoff: the next due entry is tried at once.
    public void RetryNow()
    {
        RelayReadyAt = 0;
        _connectionFailures = 0;
    }

    private void Delivered(RelayQueueEntry entry, MimeMessage message)
    {
        Touched();
        var nowUtc = _time.GetUtcNow();
        _sync.Forget(entry);
        _counters.Succeeded(nowUtc);
        var latency = (long)(nowUtc - entry.Message.Envelope.Received).TotalMilliseconds;
        RelayLog.Sent(_logger, entry.Id, message.MessageId ?? "(no Message-ID)", entry.Recipients, _transport.LastRelay ?? _settings.Name, latency);
        Record(entry, message, "relayed", "");
    }

    // The history is a view: nothing it does may fail a delivery.
    private void Record(RelayQueueEntry entry, MimeMessage message, string outcome, string error)
    {
        if (outcome == "queued")
        {
            entry.LastError = error;
        }
        if (History is not { } history)
        {
            return;
        }
        try
        {
            // One buffer for every record, kept at most MaxTextChars: a digest of megabytes
            // made a new buffer and string of its size per record before.
            var text = _historyText ??= new CappedBuffer(DigestRecord.MaxTextChars + 1);
            text.Reset();
            message.WriteTo(text);
            history.Record(new DigestRecord(entry.Id, _time.GetUtcNow(), entry.Recipients, "", message.Subject ?? "", text.Length, "smtp", outcome, error, "")
            {
                TextBytes = text.Kept,
            });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            RelayLog.HistoryFailed(_logger, entry.Id, e.Message);
        }
    }

    private void RecordFailed(RelayQueueEntry entry, byte[] bytes, string reason)
    {
        if (History is not { } history)
        {
            return;
        }
        try
        {
            string subject;
            using (var stream = new MemoryStream(bytes, writable: false))
            {
                subject = HeaderList.Load(stream)["Subject"] is { } raw ? raw.Trim() : "";
            }
            history.Record(new DigestRecord(entry.Id, _time.GetUtcNow(), entry.Recipients, "", subject, bytes.Length, "smtp", "failed", reason,
                System.Text.Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, DigestRecord.MaxTextChars))));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            RelayLog.HistoryFailed(_logger, entry.Id, e.Message);
        }
    }

    // The relay answered: the connection works, the worker needs no backoff.
    private void Touched()
    {
        Connected = true;
        LastActivity = _time.GetTimestamp();
        _connectionFailures = 0;
        RelayReadyAt = 0;
    }

    private void FailingSince() => _counters.Unhealthy(_time.GetUtcNow());

    private void Deferred(RelayQueueEntry entry, string reason)
    {
        entry.Attempts++;
        if (Expired(entry))
        {
            MoveToFailDir(entry, $"{reason}; still undeliverable after --queue-lifetime {_settings.QueueLifetime}");
            return;
        }
        var delay = Backoff(entry.Attempts);
        entry.NotBefore = _time.GetTimestamp() + MonotonicTime.ToTicks(_time, delay);
        _counters.Retried();
        RelayLog.Deferred(_logger, entry.Id, entry.Recipients, reason, _time.GetUtcNow() + delay);
    }

    private bool Expired(RelayQueueEntry entry) =>
        _time.GetUtcNow() - entry.Message.Envelope.Received >= _settings.QueueLifetime;

    // The worker's last word on a message that keeps faulting: to the fail-dir with the reason.
    public void GiveUp(RelayQueueEntry entry, string reason) => MoveToFailDir(entry, reason);

    // Writes the queued bytes to the fail-dir (tmp/, then new/) and only then forgets them,
    // so each message lands there once. If the fail-dir cannot be written the message stays
    // queued and is tried again later: nothing is dropped.
    private void MoveToFailDir(RelayQueueEntry entry, string reason)
    {
        string name;
        byte[] bytes;
        try
        {
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
            _sync.Forget(entry);
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            RelayLog.FailDirWriteFailed(_logger, entry.Id, e.Message);
            entry.NotBefore = _time.GetTimestamp() + MonotonicTime.ToTicks(_time, Backoff(++entry.Attempts));
            return;
        }
        _sync.Forget(entry);
        _counters.WroteFailDir();
        RelayLog.MovedToFailDir(_logger, entry.Id, entry.Recipients, name, reason);
        RecordFailed(entry, bytes, reason);
    }

    private TimeSpan Backoff(int failures) => Timing.Backoff.Delay(failures, _settings.RetryMin, _settings.RetryMax);
}
