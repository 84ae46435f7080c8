using System.Globalization;
using System.Text;
using System.Text.Json;
using Failmail.Api;

namespace Failmail.Cli;

// `failmail ctl`'s readable output: one aligned table per listing, a digest's text as is.
internal static class CtlTables
{
    private const int MaxCell = 60;

    public static string Render(string path, string json)
    {
        ArgumentNullException.ThrowIfNull(path);
        var context = ApiJsonContext.Default;
        var root = path.Split('/')[0];
        var ofOne = path.Contains('/', StringComparison.Ordinal);
        switch (root)
        {
            case "batches" when !ofOne:
                return Table(["ID", "RECIPIENT", "BATCH", "COUNT", "GROUPS", "SEND AT"],
                    JsonSerializer.Deserialize(json, context.ListBatchDocument)?.Select(b => new[]
                    {
                        b.Id.ToString(CultureInfo.InvariantCulture), b.Recipient, b.BatchKey, Number(b.Count),
                        string.Join("; ", b.Groups.Select(g => $"{g.Count}× {g.Subject}")), Time(b.SendAt),
                    }));
            case "digests" when !ofOne:
                return Table(["ID", "TIME", "RECIPIENT", "SUBJECT", "SIZE", "TARGET", "OUTCOME"],
                    JsonSerializer.Deserialize(json, context.ListHistoryDocument)?.Select(d => new[]
                    {
                        d.Id, Time(d.Time), d.Recipient, d.Subject, Number(d.Size), d.Target, d.Outcome + (d.Error.Length > 0 ? ": " + d.Error : ""),
                    }));
            case "digests":
                var digest = JsonSerializer.Deserialize(json, context.HistoryDocument);
                return digest is null ? "" : $"{digest.Outcome} {Time(digest.Time)} to {digest.Recipient} via {digest.Target}\n\n{digest.Text}\n";
            case "queue":
                return Table(["ID", "RECIPIENTS", "ATTEMPTS", "NEXT RETRY", "LAST ERROR"],
                    JsonSerializer.Deserialize(json, context.ListQueueDocument)?.Select(q => new[]
                    {
                        q.Id, q.Recipients, Number(q.Attempts), q.NextRetry is { } next ? Time(next) : "now", q.LastError,
                    }));
            case "failed" when !ofOne:
                return Table(["ID", "TIME", "TO", "SUBJECT", "SIZE"],
                    JsonSerializer.Deserialize(json, context.ListFailedDocument)?.Select(f => new[] { f.Id, Time(f.Time), f.To, f.Subject, Number(f.Size) }));
            case "silences" when !ofOne:
                return Table(["ID", "STATE", "MATCHERS", "ENDS", "BY", "COMMENT"],
                    JsonSerializer.Deserialize(json, context.ListSilenceDocument)?.Select(s => new[]
                    {
                        s.Id ?? "", s.Status?.State ?? "", string.Join(" ", (s.Matchers ?? []).Select(Matcher)),
                        s.EndsAt is { } ends ? Time(ends) : "", s.CreatedBy ?? "", s.Comment ?? "",
                    }));
            default:
                // flush, resend, expire, silence add: the id it acted on.
                using (var document = JsonDocument.Parse(json))
                {
                    var id = document.RootElement.TryGetProperty("id", out var value) ? value.GetString() : null;
                    return id is null ? "ok\n" : id + "\n";
                }
        }
    }

    private static string Matcher(Silences.MatcherDocument m) =>
        m.Name + (m.IsEqual ? (m.IsRegex ? "=~" : "=") : (m.IsRegex ? "!~" : "!=")) + '"' + m.Value + '"';

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Time(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    // Column widths from the content, each cell cut to MaxCell and kept on one line.
    private static string Table(string[] headers, IEnumerable<string[]>? rows)
    {
        var all = new List<string[]> { headers };
        all.AddRange((rows ?? []).Select(r => r.Select(Cell).ToArray()));
        var widths = headers.Select((_, i) => all.Max(r => r[i].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in all)
        {
            for (var i = 0; i < row.Length; i++)
            {
                text.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
            }
            text.Append('\n');
        }
        return text.ToString();
    }

    private static string Cell(string value)
    {
        var one = value.ReplaceLineEndings(" ").Replace('\t', ' ');
        return one.Length <= MaxCell ? one : string.Concat(one.AsSpan(0, MaxCell - 1), "…");
    }
}
