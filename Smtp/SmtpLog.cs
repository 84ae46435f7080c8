using Microsoft.Extensions.Logging;

namespace Failmail.Smtp;

// Every SMTP log event (ids 100-199). The connection id is on each connection event.
// Message bodies and AUTH payloads are never logged.
internal static partial class SmtpLog
{
    [LoggerMessage(100, LogLevel.Information, "SMTP listening on {EndPoint}")]
    public static partial void Listening(ILogger logger, string endPoint);

    [LoggerMessage(101, LogLevel.Information, "SMTP listener stopped; {Open} sessions still open")]
    public static partial void Stopped(ILogger logger, int open);

    [LoggerMessage(102, LogLevel.Debug, "[{ConnectionId}] connection from {Remote}")]
    public static partial void ConnectionOpened(ILogger logger, long connectionId, string remote);

    [LoggerMessage(103, LogLevel.Debug, "[{ConnectionId}] connection closed")]
    public static partial void ConnectionClosed(ILogger logger, long connectionId);

    [LoggerMessage(104, LogLevel.Warning, "connection from {Remote} refused: {Max} connections open")]
    public static partial void TooManyConnections(ILogger logger, string remote, int max);

    [LoggerMessage(105, LogLevel.Warning, "[{ConnectionId}] connection failed")]
    public static partial void ConnectionFailed(ILogger logger, long connectionId, Exception exception);

    [LoggerMessage(106, LogLevel.Information, "[{ConnectionId}] <<< {Line}")]
    public static partial void LineRead(ILogger logger, long connectionId, string line);

    [LoggerMessage(107, LogLevel.Information, "[{ConnectionId}] >>> {Line}")]
    public static partial void LineWritten(ILogger logger, long connectionId, string line);

    [LoggerMessage(108, LogLevel.Debug, "[{ConnectionId}] message {MessageId} from <{From}> to {Recipients} recipients, {Size} bytes")]
    public static partial void MessageAccepted(ILogger logger, long connectionId, string messageId, string from, int recipients, long size);

    [LoggerMessage(109, LogLevel.Warning, "[{ConnectionId}] message rejected: over the {Limit} byte limit")]
    public static partial void MessageTooLarge(ILogger logger, long connectionId, long limit);

    [LoggerMessage(110, LogLevel.Error, "[{ConnectionId}] message not stored, client told to retry")]
    public static partial void StoreFailed(ILogger logger, long connectionId, Exception exception);

    [LoggerMessage(111, LogLevel.Warning, "[{ConnectionId}] message refused: the batcher's queue is full")]
    public static partial void QueueFull(ILogger logger, long connectionId);

    [LoggerMessage(112, LogLevel.Warning, "[{ConnectionId}] {Phase} timeout, closing")]
    public static partial void Timeout(ILogger logger, long connectionId, string phase);

    [LoggerMessage(113, LogLevel.Warning, "[{ConnectionId}] authentication failed ({Failures} so far)")]
    public static partial void AuthFailed(ILogger logger, long connectionId, int failures);

    [LoggerMessage(114, LogLevel.Warning, "[{ConnectionId}] TLS handshake failed")]
    public static partial void TlsFailed(ILogger logger, long connectionId, Exception exception);

    [LoggerMessage(115, LogLevel.Error, "SMTP accept failed")]
    public static partial void AcceptFailed(ILogger logger, Exception exception);

    [LoggerMessage(116, LogLevel.Warning, "[{ConnectionId}] message {MessageId} is stored but the batcher did not take it; it stays pending in the store")]
    public static partial void SinkFailed(ILogger logger, long connectionId, string messageId, Exception exception);

    [LoggerMessage(117, LogLevel.Warning, "SMTP drain timeout: aborting {Open} sessions")]
    public static partial void DrainAborted(ILogger logger, int open);

    [LoggerMessage(118, LogLevel.Debug, "[{ConnectionId}] command line too long, discarded")]
    public static partial void LineTooLong(ILogger logger, long connectionId);

    [LoggerMessage(119, LogLevel.Debug, "[{ConnectionId}] client closed the connection {Where}")]
    public static partial void ClientGone(ILogger logger, long connectionId, string where);

    [LoggerMessage(120, LogLevel.Warning, "--credentials is set but AUTH is only allowed on encrypted connections and no TLS is configured: no client can send mail (set --tls-cert/--tls-key or --allow-unencrypted-auth)")]
    public static partial void AuthUnusable(ILogger logger);

    [LoggerMessage(121, LogLevel.Warning, "listening on {EndPoint}, beyond loopback, with neither --credentials nor --allow-from: any client that can reach it may send mail")]
    public static partial void OpenToAnyClient(ILogger logger, string endPoint);

    [LoggerMessage(122, LogLevel.Warning, "[{ConnectionId}] client {Client} refused: not in --allow-from")]
    public static partial void ClientRefused(ILogger logger, long connectionId, string client);

    [LoggerMessage(140, LogLevel.Warning, "[{ConnectionId}] AUTH refused: {Client} failed {Failures} times within {Window}")]
    public static partial void AuthBlocked(ILogger logger, long connectionId, string client, int failures, TimeSpan window);
}
