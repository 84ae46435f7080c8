namespace Failmail.Relay;

// What `failmail check --connect` learnt about one relay: facts to print (TLS, certificate,
// verdict, AUTH, SIZE) and, when it could not be used as the daemon would use it, why.
internal sealed record RelayProbeResult(string Relay, IReadOnlyList<string> Facts, string? Problem);
