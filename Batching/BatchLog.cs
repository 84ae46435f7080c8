using Microsoft.Extensions.Logging;

namespace Failmail.Batching;

// Batching events, ids 200-299. Never message bodies.
internal static partial class BatchLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "batcher started: wait period {WaitPeriod}, max wait {MaxWait}, poll {Poll}; {Pending} stored messages re-batched")]
    public static partial void Started(ILogger logger, TimeSpan waitPeriod, TimeSpan maxWait, TimeSpan poll, int pending);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "digest for {Recipient} (batch \"{BatchKey}\") handed on: {Messages} messages")]
    public static partial void DigestSent(ILogger logger, string recipient, string batchKey, int messages);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "handing on the digest for {Recipient} failed (attempt {Attempt}); retrying in {Delay}")]
    public static partial void SendFailed(ILogger logger, Exception exception, string recipient, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "{Flag} failed for message {Id}; using an empty key")]
    public static partial void ExpressionFailed(ILogger logger, Exception exception, string flag, string id);

    [LoggerMessage(EventId = 204, Level = LogLevel.Error, Message = "message {Id} cannot be read from the store")]
    public static partial void MessageUnreadable(ILogger logger, Exception exception, string id);

    [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "message {Id} is not valid MIME; batching it as plain text")]
    public static partial void MessageUnparsable(ILogger logger, Exception exception, string id);

    [LoggerMessage(EventId = 206, Level = LogLevel.Information, Message = "message {Id} is a failmail digest; passing it on unchanged to {Recipients} recipients")]
    public static partial void PassThrough(ILogger logger, string id, int recipients);

    [LoggerMessage(EventId = 207, Level = LogLevel.Error, Message = "removing {Count} sent messages from the store failed; they may be sent again after a restart")]
    public static partial void RemoveFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 208, Level = LogLevel.Warning, Message = "message {Id} has no recipients; it stays in the store")]
    public static partial void NoRecipients(ILogger logger, string id);

    [LoggerMessage(EventId = 209, Level = LogLevel.Information, Message = "batcher stopped: {Sent} digests sent in all, {Unsent} not sent (their messages stay in the store)")]
    public static partial void Stopped(ILogger logger, long sent, int unsent);

    [LoggerMessage(EventId = 210, Level = LogLevel.Warning, Message = "listing the message store failed; trying again on the next tick")]
    public static partial void LoadPendingFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 211, Level = LogLevel.Error, Message = "handing on the digest for {Recipient} failed at shutdown; its messages stay in the store for the next start")]
    public static partial void ShutdownSendFailed(ILogger logger, Exception exception, string recipient);

    [LoggerMessage(EventId = 212, Level = LogLevel.Warning, Message = "--poll {Poll} is not positive; checking batches every second instead")]
    public static partial void PollNotPositive(ILogger logger, TimeSpan poll);

    [LoggerMessage(EventId = 213, Level = LogLevel.Debug, Message = "message {Id} batched: batch \"{BatchKey}\", group \"{GroupKey}\", {Recipients} recipients")]
    public static partial void Batched(ILogger logger, string id, string batchKey, string groupKey, int recipients);

    [LoggerMessage(EventId = 214, Level = LogLevel.Error, Message = "batching message {Id} failed; it stays in the store")]
    public static partial void BatchingFailed(ILogger logger, Exception exception, string id);

    [LoggerMessage(EventId = 215, Level = LogLevel.Error, Message = "quarantined {Messages} messages for {Recipient} in {Dir}/new/{Name}: {Reason}")]
    public static partial void Quarantined(ILogger logger, Exception exception, int messages, string recipient, string dir, string name, string reason);

    [LoggerMessage(EventId = 216, Level = LogLevel.Error, Message = "message {Id} broke its batch but cannot be written to the quarantine; it stays in the store")]
    public static partial void QuarantineFailed(ILogger logger, Exception exception, string id);

    [LoggerMessage(EventId = 217, Level = LogLevel.Warning, Message = "storm: {Count} messages for batch \"{BatchKey}\" within {Window}; notice to {PageTo}")]
    public static partial void StormPaged(ILogger logger, long count, string batchKey, TimeSpan window, string pageTo);

    [LoggerMessage(EventId = 218, Level = LogLevel.Information, Message = "merged digest {Id} into batch {BatchKey}: {Groups} groups, {Total} messages, for {Recipients} recipients")]
    public static partial void Merged(ILogger logger, string id, string batchKey, int groups, long total, int recipients);

    [LoggerMessage(EventId = 219, Level = LogLevel.Warning, Message = "digest {Id} passed through unmerged: {Problem}")]
    public static partial void MergeRefused(ILogger logger, string id, string problem);

    [LoggerMessage(EventId = 220, Level = LogLevel.Information, Message = "merged digest {Id}: all {Groups} groups silenced; released")]
    public static partial void MergeSilenced(ILogger logger, string id, int groups);
}
