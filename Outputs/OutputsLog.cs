using Microsoft.Extensions.Logging;

namespace Failmail.Outputs;

// Output events 900-949. Output ids and reasons only: never a webhook URL or key.
internal static partial class OutputsLog
{
    [LoggerMessage(EventId = 900, Level = LogLevel.Information, Message = "output worker started: {Output}, {Queued} queued")]
    public static partial void Started(ILogger logger, string output, int queued);

    [LoggerMessage(EventId = 901, Level = LogLevel.Information, Message = "output worker {Output} stopped: {Queued} left in its queue")]
    public static partial void Stopped(ILogger logger, string output, int queued);

    [LoggerMessage(EventId = 902, Level = LogLevel.Debug, Message = "queued {EntryId} for {Recipient} on {Output}")]
    public static partial void Queued(ILogger logger, string output, string entryId, string recipient);

    [LoggerMessage(EventId = 910, Level = LogLevel.Information, Message = "posted {EntryId} for {Recipient} to {Output}: {Messages} messages, {Digests} digests")]
    public static partial void Sent(ILogger logger, string output, string entryId, string recipient, int messages, int digests);

    [LoggerMessage(EventId = 911, Level = LogLevel.Information, Message = "merged {Count} pending posts for {Recipient} on {Output} into {EntryId}")]
    public static partial void Merged(ILogger logger, string output, int count, string entryId, string recipient);

    [LoggerMessage(EventId = 920, Level = LogLevel.Warning, Message = "post {EntryId} to {Output} deferred: {Reason}; next attempt at {NextAttempt:O}")]
    public static partial void Deferred(ILogger logger, string output, string entryId, string reason, DateTimeOffset nextAttempt);

    [LoggerMessage(EventId = 921, Level = LogLevel.Warning, Message = "post {EntryId} to {Output} failed unexpectedly")]
    public static partial void AttemptFailed(ILogger logger, string output, string entryId, Exception exception);

    [LoggerMessage(EventId = 922, Level = LogLevel.Warning, Message = "--transport-map: {Warning}")]
    public static partial void MapWarning(ILogger logger, string warning);

    [LoggerMessage(EventId = 923, Level = LogLevel.Warning, Message = "output queue {Directory} holds {Count} posts for an output no longer in --transport-map; they stay there")]
    public static partial void Orphaned(ILogger logger, string directory, int count);

    [LoggerMessage(EventId = 930, Level = LogLevel.Error, Message = "moved {EntryId} for {Recipient} on {Output} to the fail-dir as outputs/{FileName}: {Reason}")]
    public static partial void MovedToFailDir(ILogger logger, string output, string entryId, string recipient, string fileName, string reason);

    [LoggerMessage(EventId = 931, Level = LogLevel.Warning, Message = "could not read X-Failmail-Severity of {MessageId}: {Reason}")]
    public static partial void SeverityUnreadable(ILogger logger, string messageId, string reason);

    [LoggerMessage(EventId = 932, Level = LogLevel.Warning, Message = "output {Output}: could not record {EntryId} in the history: {Reason}")]
    public static partial void HistoryFailed(ILogger logger, string output, string entryId, string reason);
}
