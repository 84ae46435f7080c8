namespace Failmail.Maildir;

// What SMTP says about a message, beside its bytes. Recipients are the effective ones,
// after --rewrite-src/--rewrite-dest. The null sender is the empty string.
internal sealed record Envelope(
    string From,
    IReadOnlyList<string> Recipients,
    DateTimeOffset Received,
    string ClientAddress);
