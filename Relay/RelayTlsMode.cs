namespace Failmail.Relay;

// How the relay connection is secured, chosen by the --relay-addr scheme. The port is
// independent of it: implicit TLS works on any port, not only 465.
internal enum RelayTlsMode
{
    // smtp:// or a plain host:port: STARTTLS when the relay offers it (failmail's behaviour).
    StartTlsWhenOffered,

    // smtp+starttls://: STARTTLS or nothing; a relay that does not offer it is an error.
    StartTlsRequired,

    // smtps://: TLS from the first byte (RFC 8314 §3.3).
    Implicit,

    // smtp+plain://: never TLS, even when the relay offers STARTTLS.
    None,
}
