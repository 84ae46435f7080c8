namespace Failmail.Smtp;

// What the listener knows of a client before its first command. IsLoopback: it connects from
// this host, so a bare local name (MAIL FROM:<root>) is taken and qualified, as Postfix's
// append_at_myorigin does for local submissions. IsAllowed: its address is in --allow-from
// (Postfix's mynetworks), so with --credentials it may send without AUTH. The default is a
// remote client outside --allow-from: failmail's own rules.
internal readonly record struct SmtpPeer(bool IsLoopback, bool IsAllowed);
