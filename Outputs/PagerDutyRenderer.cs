using System.Security.Cryptography;
using System.Text;

namespace Failmail.Outputs;

// PagerDuty Events API v2 `trigger`. dedup_key is stable per (batch key, recipient), so the
// next digest of the same batch updates the open alert instead of opening another, and a
// repeated post after a crash is harmless. payload.summary ≤ 1,024 characters; source is the
// host the messages came from (else this host); severity from X-Failmail-Severity, else the
// target's ?severity=, else error; the groups and counts go in custom_details.
internal static class PagerDutyRenderer
{
    public const int MaxSummary = 1024;
    public const int MaxDetailGroups = 50;

    public static string DedupKey(string batchKey, string recipient) =>
        "failmail-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(batchKey + "\n" + recipient.ToLowerInvariant())))[..40];

    public static OutputPayload Render(OutputTarget target, OutputEntry entry, string localHost)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(entry);
        var s = entry.Summary;
        var severity = s.Severity.Length > 0 ? s.Severity : target.Severity.Length > 0 ? target.Severity : "error";
        var source = s.Hosts.FirstOrDefault() ?? localHost;
        var body = JsonPayload.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("routing_key", target.RoutingKey);
            w.WriteString("event_action", "trigger");
            w.WriteString("dedup_key", DedupKey(s.BatchKey, s.Recipient));
            w.WriteString("client", "failmail");
            w.WriteStartObject("payload");
            w.WriteString("summary", TextCut.Chars(DigestText.Headline(s), MaxSummary));
            w.WriteString("source", TextCut.Chars(TextCut.OneLine(source), 255));
            w.WriteString("severity", severity);
            w.WriteString("timestamp", s.Newest.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("component", "failmail");
            if (s.BatchKey.Length > 0)
            {
                w.WriteString("group", TextCut.Chars(TextCut.OneLine(s.BatchKey), 255));
            }
            w.WriteString("class", "digest");
            w.WriteStartObject("custom_details");
            w.WriteString("recipient", s.Recipient);
            w.WriteString("batch_key", s.BatchKey);
            w.WriteNumber("messages", s.TotalMessages);
            w.WriteNumber("groups", s.GroupCount);
            w.WriteString("first_seen", s.Oldest.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("last_seen", s.Newest.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteStartArray("top_groups");
            foreach (var g in s.Groups.Take(MaxDetailGroups))
            {
                w.WriteStringValue(DigestText.GroupLine(g, 300));
            }
            w.WriteEndArray();
            var rest = DigestText.Rest(s, Math.Min(MaxDetailGroups, s.Groups.Count));
            if (rest.Length > 0)
            {
                w.WriteString("more", rest);
            }
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        });
        return OutputPayload.ForJson(body);
    }
}
