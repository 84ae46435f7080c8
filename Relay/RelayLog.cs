using Microsoft.Extensions.Logging;

namespace Failmail.Relay;

// Relay events 300-399. No bodies, no credentials: only ids, addresses and reasons.
internal static partial class RelayLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "relay worker started: {Upstream}, {Queued} queued")]
    public static partial void Started(ILogger logger, string upstream, int queued);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "relay worker stopped: {Queued} left in the queue")]
    public static partial void Stopped(ILogger logger, int queued);

    [LoggerMessage(EventId = 302, Level = LogLevel.Debug, Message = "queued {QueueId} for {Recipients}")]
    public static partial void Queued(ILogger logger, string queueId, IReadOnlyList<string> recipients);

    [LoggerMessage(EventId = 310, Level = LogLevel.Information, Message = "sent {QueueId} {MessageId} to {Recipients} via {Relay} after {LatencyMs} ms in the queue")]
    public static partial void Sent(ILogger logger, string queueId, string messageId, string recipients, string relay, long latencyMs);

    [LoggerMessage(EventId = 320, Level = LogLevel.Warning, Message = "relay of {QueueId} to {Recipients} deferred: {Reason}; next attempt at {NextAttempt:O}")]
    public static partial void Deferred(ILogger logger, string queueId, string recipients, string reason, DateTimeOffset nextAttempt);

    [LoggerMessage(EventId = 321, Level = LogLevel.Warning, Message = "relay unavailable: {Reason}; {Queued} queued, next attempt at {NextAttempt:O}")]
    public static partial void RelayDown(ILogger logger, string reason, int queued, DateTimeOffset nextAttempt);

    [LoggerMessage(EventId = 323, Level = LogLevel.Warning, Message = "relay {Relay} unavailable: {Reason}; skipped until {SkipUntil:O}, {Next}")]
    public static partial void RelaySkipped(ILogger logger, string relay, string reason, DateTimeOffset skipUntil, string next);

    [LoggerMessage(EventId = 324, Level = LogLevel.Warning, Message = "relay {Relay} deferred the message: {Reason}; trying {Next}")]
    public static partial void RelayDeferredTryingNext(ILogger logger, string relay, string reason, string next);

    [LoggerMessage(EventId = 325, Level = LogLevel.Information, Message = "relay {Relay} answers again")]
    public static partial void RelayBack(ILogger logger, string relay);

    [LoggerMessage(EventId = 322, Level = LogLevel.Warning, Message = "could not write the --all-dir copy of {QueueId}: {Reason}")]
    public static partial void AllDirFailed(ILogger logger, string queueId, string reason);

    [LoggerMessage(EventId = 330, Level = LogLevel.Error, Message = "moved {QueueId} for {Recipients} to the fail-dir as {FileName}: {Reason}")]
    public static partial void MovedToFailDir(ILogger logger, string queueId, string recipients, string fileName, string reason);

    [LoggerMessage(EventId = 331, Level = LogLevel.Error, Message = "could not write {QueueId} to the fail-dir, keeping it queued: {Reason}")]
    public static partial void FailDirWriteFailed(ILogger logger, string queueId, string reason);

    [LoggerMessage(EventId = 332, Level = LogLevel.Error, Message = "queued message {QueueId} is unreadable, keeping it: {Reason}")]
    public static partial void Unreadable(ILogger logger, string queueId, string reason);

    [LoggerMessage(EventId = 333, Level = LogLevel.Error, Message = "could not remove {QueueId} from the outgoing queue; a restart may send it again: {Reason}")]
    public static partial void RemoveFailed(ILogger logger, string queueId, string reason);

    [LoggerMessage(EventId = 334, Level = LogLevel.Error, Message = "relay attempt for {QueueId} failed unexpectedly")]
    public static partial void AttemptFailed(ILogger logger, string queueId, Exception exception);

    [LoggerMessage(EventId = 335, Level = LogLevel.Warning, Message = "--relay-insecure: the certificate of {Upstream} is not checked; anyone on the path can read and change relayed mail and see the relay password")]
    public static partial void InsecureTls(ILogger logger, string upstream);

    [LoggerMessage(EventId = 340, Level = LogLevel.Error, Message = "relay worker failed")]
    public static partial void WorkerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 345, Level = LogLevel.Information, Message = "found {Count} new message(s) in the outgoing queue (resend); relaying now")]
    public static partial void FoundInQueue(ILogger logger, int count);

    [LoggerMessage(EventId = 346, Level = LogLevel.Warning, Message = "could not scan the outgoing queue for new messages: {Reason}")]
    public static partial void PollFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 347, Level = LogLevel.Warning, Message = "digest {QueueId} is over the relay's size limit: re-rendered to at most {MaxBytes} bytes")]
    public static partial void DigestShrunk(ILogger logger, string queueId, long maxBytes);

    [LoggerMessage(EventId = 360, Level = LogLevel.Warning, Message = "could not record digest {QueueId} in the history: {Reason}")]
    public static partial void HistoryFailed(ILogger logger, string queueId, string reason);
}
