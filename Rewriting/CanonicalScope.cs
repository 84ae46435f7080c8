namespace Failmail.Rewriting;

// --canonical-scope: which side the canonical maps rewrite. "both" by default: providers
// refuse mail whose From header does not match the authenticated envelope sender.
[Flags]
internal enum CanonicalScope
{
    Envelope = 1,
    Headers = 2,
    Both = Envelope | Headers,
}
