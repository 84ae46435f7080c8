namespace Failmail.Relay;

// How the worker reacts to a failed attempt, as Postfix splits them.
internal enum RelayFailureKind
{
    // The relay answered 4xx to this message (MAIL, RCPT or DATA): the connection is fine,
    // only this message waits for its own backoff.
    MessageTransient,

    // The relay is unusable right now: refused or dropped connection, timeout, TLS or
    // protocol error, 421, failed AUTH. Every message waits: the whole worker backs off.
    ConnectionTransient,

    // The relay answered 5xx to this message, or the message can never be sent (an
    // unparsable envelope address): it goes to the fail-dir at once.
    Permanent,
}
