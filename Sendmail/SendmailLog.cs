using Microsoft.Extensions.Logging;

namespace Failmail.Sendmail;

// Event ids 700-719: the daemon's side of the sendmail spool.
internal static partial class SendmailLog
{
    [LoggerMessage(EventId = 700, EventName = "SpoolImported", Level = LogLevel.Information, Message = "imported spooled message {Name} from {SpoolDir} as {Id} ({Recipients} recipients)")]
    public static partial void SpoolImported(ILogger logger, string name, string spoolDir, string id, int recipients);

    [LoggerMessage(EventId = 701, EventName = "SpoolEntryRefused", Level = LogLevel.Warning, Message = "spool entry {Name} in {SpoolDir} refused: {Reason}; moved to {BadDir}")]
    public static partial void SpoolEntryRefused(ILogger logger, string name, string spoolDir, string reason, string badDir);

    [LoggerMessage(EventId = 702, EventName = "SpoolImportFailed", Level = LogLevel.Warning, Message = "cannot import spool {SpoolDir}; will retry at the next poll")]
    public static partial void SpoolImportFailed(ILogger logger, Exception exception, string spoolDir);

    [LoggerMessage(EventId = 703, EventName = "SpoolSinkFailed", Level = LogLevel.Warning, Message = "imported message {Id} could not be handed to the batcher now; it stays pending in the store")]
    public static partial void SinkFailed(ILogger logger, Exception exception, string id);

    [LoggerMessage(EventId = 704, EventName = "SpoolQueueFull", Level = LogLevel.Debug, Message = "the batcher's queue is full; the rest of spool {SpoolDir} waits for the next poll")]
    public static partial void SpoolQueueFull(ILogger logger, string spoolDir);

    [LoggerMessage(EventId = 706, EventName = "SpoolNotPrepared", Level = LogLevel.Warning, Message = "cannot prepare the spool {SpoolDir} for local users ({Error}); `failmail sendmail` may fail to spool while the daemon is down")]
    public static partial void SpoolNotPrepared(ILogger logger, string spoolDir, string error);

    [LoggerMessage(EventId = 705, EventName = "SpoolEntryNotMoved", Level = LogLevel.Warning, Message = "spool entry {Name} in {SpoolDir} refused: {Reason}; it cannot be moved aside ({Error}), so it stays in new/")]
    public static partial void SpoolEntryNotMoved(ILogger logger, string name, string spoolDir, string reason, string error);
}
