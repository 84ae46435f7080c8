using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Failmail.Outputs;

// failmail's own webhook document, version 1 (README, "Alerts to chat and paging"): the
// recipient, batch key, groups with counts, hosts and first/last seen, and a text rendering.
// X-Failmail-Delivery carries the queue entry's id (a repeat after a crash has the same one);
// with ?secret= the body is signed: X-Failmail-Signature: sha256=HEX(HMAC-SHA256(secret, body)).
internal static class WebhookRenderer
{
    public const int Version = 1;
    public const string SignatureHeader = "X-Failmail-Signature";
    public const string DeliveryHeader = "X-Failmail-Delivery";
    public const int MaxText = 4000;

    public static OutputPayload Render(OutputTarget target, OutputEntry entry, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(entry);
        var s = entry.Summary;
        var body = JsonPayload.Write(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("version", Version);
            w.WriteString("type", "failmail.digest");
            w.WriteString("id", entry.Id);
            w.WriteString("sent_at", Time(now));
            w.WriteString("recipient", s.Recipient);
            w.WriteString("batch_key", s.BatchKey);
            w.WriteString("subject", s.Subject);
            if (s.Severity.Length > 0)
            {
                w.WriteString("severity", s.Severity);
            }
            w.WriteNumber("total_messages", s.TotalMessages);
            w.WriteNumber("group_count", s.GroupCount);
            w.WriteNumber("digests", s.Digests);
            w.WriteString("first_seen", Time(s.Oldest));
            w.WriteString("last_seen", Time(s.Newest));
            w.WriteStartArray("hosts");
            foreach (var host in s.Hosts)
            {
                w.WriteStringValue(host);
            }
            w.WriteEndArray();
            w.WriteStartArray("groups");
            foreach (var g in s.Groups)
            {
                w.WriteStartObject();
                w.WriteString("key", g.Key);
                w.WriteString("subject", g.Subject);
                w.WriteNumber("count", g.Count);
                w.WriteString("first_seen", Time(g.First));
                w.WriteString("last_seen", Time(g.Last));
                w.WriteStartArray("hosts");
                foreach (var host in g.Hosts)
                {
                    w.WriteStringValue(host);
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("omitted_groups", s.OmittedGroups);
            w.WriteNumber("omitted_messages", s.OmittedMessages);
            w.WriteString("text", DigestText.Plain(s, MaxText));
            w.WriteEndObject();
        });
        var headers = new List<KeyValuePair<string, string>> { new(DeliveryHeader, entry.Id) };
        if (target.Secret.Length > 0)
        {
            headers.Add(new(SignatureHeader, Sign(target.Secret, body)));
        }
        return new OutputPayload(body, OutputPayload.Json, headers);
    }

    public static string Sign(byte[] secret, byte[] body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, body));

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
