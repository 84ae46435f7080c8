using Failmail.GoSyntax;

namespace Failmail.Hosting;

// /healthz: healthy unless a part has stopped or is stuck (PartWatch), the store refuses writes (mail would be turned away) or the relay
// has failed without a single success for longer than the threshold (digests pile up).
internal static class HealthCheck
{
    public static readonly TimeSpan DefaultRelayFailureThreshold = TimeSpan.FromMinutes(10);

    // Null when healthy, else one line saying why not.
    public static string? Problem(IFailmailStats stats, DateTimeOffset now, TimeSpan relayFailureThreshold)
    {
        ArgumentNullException.ThrowIfNull(stats);
        if (stats.PartProblem is string part)
        {
            return part;
        }
        if (stats.StoreProblem is string store)
        {
            return "store unwritable: " + store.ReplaceLineEndings(" ");
        }
        if (stats.RelayFailingSince is DateTimeOffset since && now - since > relayFailureThreshold)
        {
            return $"relay failing since {GoFormat.Rfc3339Nano(since)} ({(long)(now - since).TotalSeconds}s, threshold {(long)relayFailureThreshold.TotalSeconds}s)";
        }
        if (stats.OutputProblem is string output)
        {
            return output;
        }
        return null;
    }
}
