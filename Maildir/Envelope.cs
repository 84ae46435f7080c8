namespace Failmail.Maildir;

// What SMTP says about a message, beside its bytes. Recipients are the effective ones,
// after --rewrite-src/--rewrite-dest. The null sender is the empty string. ClientName is the
// name the client gave in EHLO/HELO (the spool's: the local host name), "" when unknown (a
// message stored before issue 13): the digest's "sending host".
internal sealed record Envelope(
    string From,
    IReadOnlyList<string> Recipients,
    DateTimeOffset Received,
    string ClientAddress)
{
    public string ClientName { get; init; } = "";
}
