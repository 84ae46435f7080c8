using Microsoft.Extensions.Logging;

namespace Failmail.Sendmail;

// Event ids 700-719: the daemon's side of the sendmail spool.
internal static partial class SendmailLog
{
    [LoggerMessage(EventId = 700, EventName = "SpoolImported", Level = LogLevel.Information, Message = "imported spooled message {Name} from {SpoolDir} as {Id} ({Recipients} recipients)")]
    public static partial void SpoolImported(ILogger logger, string name, string spoolDir, string id, int recipients);

    [LoggerMessage(EventId = 701, EventName = "SpoolFileBad", Level = LogLevel.Error, Message = "spooled message {Name} in {SpoolDir} has no valid envelope; moved to cur/ for inspection")]
    public static partial void SpoolFileBad(ILogger logger, string name, string spoolDir);

    [LoggerMessage(EventId = 702, EventName = "SpoolImportFailed", Level = LogLevel.Warning, Message = "cannot import spool {SpoolDir}; will retry at the next poll")]
    public static partial void SpoolImportFailed(ILogger logger, Exception exception, string spoolDir);

    [LoggerMessage(EventId = 703, EventName = "SpoolSinkFailed", Level = LogLevel.Warning, Message = "imported message {Id} could not be handed to the batcher now; it stays pending in the store")]
    public static partial void SinkFailed(ILogger logger, Exception exception, string id);
}
