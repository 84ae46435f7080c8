using Failmail.Batching;

namespace Failmail.Outputs;

// What an output renders from: the digest's recipient, batch key, groups (most messages
// first) and counts. Persisted in each output's queue (OutputEntry), so a restart renders
// the same post. At most MaxGroups groups are kept; the rest are summed in Omitted*.
internal sealed record OutputSummary
{
    public const int MaxGroups = 200;

    public required string Recipient { get; init; }
    public required string BatchKey { get; init; }
    public required int TotalMessages { get; init; }
    public required DateTimeOffset Oldest { get; init; }
    public required DateTimeOffset Newest { get; init; }
    public required IReadOnlyList<OutputGroup> Groups { get; init; }
    public int OmittedGroups { get; init; }
    public int OmittedMessages { get; init; }

    // The digest's subject line (the mail's Subject header), for outputs that show a title.
    public string Subject { get; init; } = "";

    // X-Failmail-Severity of the digest's messages (the most severe), or "" when none said.
    public string Severity { get; init; } = "";

    // How many digests were merged into this one while the output was behind (1: none).
    public int Digests { get; init; } = 1;

    public int GroupCount => Groups.Count + OmittedGroups;

    public IEnumerable<string> Hosts => Groups.SelectMany(g => g.Hosts).Distinct(StringComparer.OrdinalIgnoreCase);

    public static OutputSummary From(Digest digest, string severity = "")
    {
        ArgumentNullException.ThrowIfNull(digest);
        var subject = digest.Message.Subject ?? "";
        if (digest.Summary is not { } batch)
        {
            // A digest the batcher did not build (tests, a resent file): one group, its subject.
            var now = digest.Message.Date;
            return new OutputSummary
            {
                Recipient = TextCut.Valid(digest.Recipient),
                BatchKey = TextCut.Valid(digest.BatchKey),
                TotalMessages = Math.Max(1, digest.MessageIds.Count),
                Oldest = now,
                Newest = now,
                Groups = [new OutputGroup { Key = TextCut.Valid(subject), Subject = TextCut.Valid(subject), Count = Math.Max(1, digest.MessageIds.Count), First = now, Last = now }],
                Subject = TextCut.Valid(subject),
                Severity = severity,
            };
        }
        var kept = batch.Groups.Take(MaxGroups).Select(g => new OutputGroup
        {
            Key = TextCut.Valid(g.Key),
            Subject = TextCut.Valid(g.Subject),
            Count = g.Count,
            First = g.First,
            Last = g.Last,
            // The sending hosts, most messages first (the batcher keeps at most 32 per group).
            Hosts = [.. g.Hosts.Select(h => TextCut.Valid(h.Host))],
        }).ToList();
        var omitted = batch.Groups.Skip(MaxGroups).ToList();
        return new OutputSummary
        {
            Recipient = TextCut.Valid(digest.Recipient),
            BatchKey = TextCut.Valid(digest.BatchKey),
            TotalMessages = batch.TotalMessages,
            Oldest = batch.Oldest,
            Newest = batch.Newest,
            Groups = kept,
            OmittedGroups = omitted.Count,
            OmittedMessages = omitted.Sum(g => g.Count),
            Subject = TextCut.Valid(subject),
            Severity = severity,
        };
    }

    // Several queued digests for one recipient as one: groups with the same key add up.
    public static OutputSummary Merge(IReadOnlyList<OutputSummary> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 1)
        {
            return parts[0];
        }
        var byKey = new Dictionary<string, OutputGroup>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var group in parts.SelectMany(p => p.Groups))
        {
            if (byKey.TryGetValue(group.Key, out var seen))
            {
                byKey[group.Key] = seen with
                {
                    Count = seen.Count + group.Count,
                    First = seen.First < group.First ? seen.First : group.First,
                    Last = seen.Last > group.Last ? seen.Last : group.Last,
                    Subject = seen.Last > group.Last ? seen.Subject : group.Subject,
                    Hosts = [.. seen.Hosts.Union(group.Hosts, StringComparer.OrdinalIgnoreCase)],
                };
            }
            else
            {
                byKey[group.Key] = group;
                order.Add(group.Key);
            }
        }
        var groups = order.Select(k => byKey[k]).OrderByDescending(g => g.Count).ToList();
        var last = parts[^1];
        return last with
        {
            TotalMessages = parts.Sum(p => p.TotalMessages),
            Oldest = parts.Min(p => p.Oldest),
            Newest = parts.Max(p => p.Newest),
            Groups = groups.Take(MaxGroups).ToList(),
            OmittedGroups = parts.Sum(p => p.OmittedGroups) + Math.Max(0, groups.Count - MaxGroups),
            OmittedMessages = parts.Sum(p => p.OmittedMessages) + groups.Skip(MaxGroups).Sum(g => g.Count),
            Severity = parts.Select(p => p.Severity).MaxBy(OutputSeverity.Rank) ?? "",
            Digests = parts.Sum(p => p.Digests),
        };
    }
}
