using MimeKit;

namespace Failmail.Relay;

// One upstream connection, owned by the single relay worker (MailKit's SmtpClient handles
// one operation at a time). SendAsync connects on demand and keeps the connection open for
// the next message of a burst; the worker calls DisconnectAsync once it has been idle.
// Failures are reported as RelayException, already split into the worker's three classes;
// OperationCanceledException means the caller's token was cancelled.
internal interface IRelayTransport : IAsyncDisposable
{
    ValueTask SendAsync(MimeMessage message, string from, IReadOnlyList<string> recipients, CancellationToken cancellationToken);

    ValueTask DisconnectAsync(CancellationToken cancellationToken);

    // The SIZE the relay advertised on the last connection (RFC 1870), null when unknown or
    // unlimited: a digest over it is re-rendered smaller before it is sent.
    long? MaxSize => null;

    // The relay (URL) that took or refused the last message; null when there is only one way.
    string? LastRelay => null;

    // A TimeProvider timestamp: while every relay of a failover list is being skipped, when
    // the first skip ends (the worker waits until then); null when the transport keeps no
    // such state or a relay is usable.
    long? ReadyAt => null;

    // Per-relay numbers for /metrics (FailoverRelayTransport); empty for others.
    IReadOnlyList<RelayEndpointStats> Endpoints => [];
}
