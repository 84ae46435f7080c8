namespace Failmail.Relay;

// One relay's numbers for /metrics: attempts made on it, attempts on which it could not be
// used (connect, TLS, greeting, AUTH, timeout), messages it took, the rest of its skip
// period (zero while usable) and why it last failed.
internal readonly record struct RelayEndpointStats(string Relay, long Attempts, long Failures, long Sent, TimeSpan Backoff, string? LastError)
{
    public bool Up => Backoff <= TimeSpan.Zero;
}
