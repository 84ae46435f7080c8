namespace Failmail.Outputs;

// PagerDuty's four severities (Events API v2 payload.severity), also used to pick the most
// severe of several X-Failmail-Severity values.
internal static class OutputSeverity
{
    public static readonly string[] Known = ["info", "warning", "error", "critical"];

    public static int Rank(string? value) => value is null ? -1 : Array.IndexOf(Known, value.Trim().ToLowerInvariant());

    public static bool IsKnown(string value) => Rank(value) >= 0;

    // A header value as one of the four, or "" (an unknown value is ignored, not an error).
    public static string Normalize(string? value) => Rank(value) is var r and >= 0 ? Known[r] : "";
}
