using Microsoft.Extensions.Logging;

namespace Failmail.Maildir;

internal static partial class MaildirEvents
{
    // Logs a failed store write and wraps it in an IOException that names what failed; the
    // system's exception stays inner, so SMTP still finds ENOSPC there (452).
    public static IOException WriteFailure(ILogger logger, string what, Exception e)
    {
        var message = $"{what}: {e.Message}";
        WriteFailed(logger, message);
        return new IOException(message, e);
    }

    [LoggerMessage(400, LogLevel.Information, "Message store {Root} opened: {Pending} pending, {Removed} unfinished files removed, {Quarantined} entries quarantined")]
    public static partial void StoreOpened(ILogger logger, string root, int pending, int removed, int quarantined);

    [LoggerMessage(401, LogLevel.Debug, "Removed leftover {Path} from an interrupted delivery")]
    public static partial void LeftoverRemoved(ILogger logger, string path);

    [LoggerMessage(402, LogLevel.Warning, "Removed {Name} from cur/: it has no envelope, so it was never acknowledged to the client")]
    public static partial void OrphanRemoved(ILogger logger, string name);

    [LoggerMessage(403, LogLevel.Error, "Quarantined store entry {Name} into {Directory}: {Reason}")]
    public static partial void Quarantined(ILogger logger, string name, string directory, string reason);

    [LoggerMessage(404, LogLevel.Error, "Quarantining {Name} failed; it is skipped: {Error}")]
    public static partial void QuarantineFailed(ILogger logger, string name, string error);

    [LoggerMessage(405, LogLevel.Error, "Message store cannot accept a message: {Error}")]
    public static partial void WriteFailed(ILogger logger, string error);

    [LoggerMessage(406, LogLevel.Error, "Commit of {Name} failed, the client gets a temporary error: {Error}")]
    public static partial void CommitFailed(ILogger logger, string name, string error);

    [LoggerMessage(407, LogLevel.Warning, "Removing message {Id} failed; it may be sent again after a restart: {Error}")]
    public static partial void RemoveFailed(ILogger logger, string id, string error);

    [LoggerMessage(408, LogLevel.Debug, "Committed {Count} messages in one group")]
    public static partial void GroupCommitted(ILogger logger, int count);

    [LoggerMessage(409, LogLevel.Error, "Message store committer stopped unexpectedly")]
    public static partial void CommitterCrashed(ILogger logger, Exception exception);

    [LoggerMessage(410, LogLevel.Error, "Log record {Id} has no usable envelope (no recipients); it is skipped")]
    public static partial void RecordUnusable(ILogger logger, string id);

    [LoggerMessage(411, LogLevel.Error, "Log segment {Path} is unreadable from byte {Offset} on; the messages before it are loaded and the file is kept for inspection")]
    public static partial void SegmentDamaged(ILogger logger, string path, long offset);

    [LoggerMessage(412, LogLevel.Warning, "Log segment {Path} ended in an interrupted write; {Bytes} bytes of it (never acknowledged) were cut off")]
    public static partial void SegmentTruncated(ILogger logger, string path, long bytes);

    [LoggerMessage(413, LogLevel.Error, "Log segment {Path} could not be sealed or deleted: {Error}")]
    public static partial void SegmentCleanupFailed(ILogger logger, string path, string error);

    [LoggerMessage(414, LogLevel.Information, "Message log {Directory} opened: {Pending} pending")]
    public static partial void LogOpened(ILogger logger, string directory, int pending);
}
