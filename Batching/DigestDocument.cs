using System.Text.Json;
using MimeKit;

namespace Failmail.Batching;

// The machine-readable part of a digest (--digest-json, issue 16): what the batcher folded,
// so that a hub with --merge-digests folds a spoke's digests into its own batches by group key,
// summing counts and keeping the per-host breakdown. Versioned; a hub reads version 1 only.
// Hostile on the way in like any message: strings are cut, counts and lists bounded.
internal sealed record DigestDocument(int Version, string BatchKey, string Recipient, long Total, IReadOnlyList<DigestDocumentGroup> Groups)
{
    public const int CurrentVersion = 1;
    public const string ContentType = "application/vnd.failmail.digest+json";
    public const string FileName = "failmail-digest.json";

    // A hub folds at most this many groups from one digest; a spoke writes at most this many,
    // the rest summed into one group (OtherKey) so the counts stay exact.
    public const int MaxGroups = 1_000;
    public const string OtherKey = "failmail:other-groups";

    // Per group: at most this many hosts and examples are read.
    private const int MaxHosts = 64;
    private const int MaxExamples = 8;

    // A part larger than this is not read (1,000 groups of 64 hosts fit several times).
    public const int MaxBytes = 4 * 1024 * 1024;

    public static DigestDocument From(DueBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var groups = batch.Groups.Take(MaxGroups).Select(g => new DigestDocumentGroup(
            g.Key, g.Subject, g.Count, g.First, g.Last,
            g.Hosts.Select(h => new DigestDocumentHost(h.Host, h.Count)).ToList(),
            g.OtherHostMessages, g.Examples)).ToList();
        if (batch.Groups.Count > MaxGroups)
        {
            var rest = batch.Groups.Skip(MaxGroups).ToList();
            groups.Add(new DigestDocumentGroup(OtherKey, $"{rest.Count} more groups", rest.Sum(g => (long)g.Count),
                rest.Min(g => g.First), rest.Max(g => g.Last), [], rest.Sum(g => (long)g.Count), []));
        }
        return new DigestDocument(CurrentVersion, batch.BatchKey, batch.Recipient, batch.TotalMessages, groups);
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, DigestJsonContext.Default.DigestDocument);

    // The JSON as a digest's second part.
    public static MimePart Part(byte[] bytes)
    {
        return new MimePart("application", "vnd.failmail.digest+json")
        {
            Content = new MimeContent(new MemoryStream(bytes)),
            ContentDisposition = new ContentDisposition(ContentDisposition.Attachment) { FileName = FileName },
            // JSON is UTF-8 text; base64 keeps any long line and 8-bit byte safe through relays.
            ContentTransferEncoding = ContentEncoding.Base64,
        };
    }

    // The document of a failmail digest that carries one, checked; null when it has none or
    // it is not one this version reads (the digest then passes through as before).
    public static DigestDocument? Find(MimeMessage message, out string problem)
    {
        ArgumentNullException.ThrowIfNull(message);
        problem = "";
        var part = message.BodyParts.OfType<MimePart>().FirstOrDefault(p => p.ContentType.IsMimeType("application", "vnd.failmail.digest+json"));
        if (part?.Content is null)
        {
            return null;
        }
        using var content = new MemoryStream();
        part.Content.DecodeTo(content);
        if (content.Length > MaxBytes)
        {
            problem = $"its JSON part is over {MaxBytes} bytes";
            return null;
        }
        DigestDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(content.GetBuffer().AsSpan(0, (int)content.Length), DigestJsonContext.Default.DigestDocument);
        }
        catch (JsonException e)
        {
            problem = "its JSON part does not parse: " + e.Message;
            return null;
        }
        if (document is null || document.Version != CurrentVersion)
        {
            problem = $"its JSON part is not version {CurrentVersion}";
            return null;
        }
        if (document.Groups is not { Count: > 0 } || document.Groups.Count > MaxGroups + 1)
        {
            problem = $"its JSON part has no groups or more than {MaxGroups + 1}";
            return null;
        }
        var groups = new List<DigestDocumentGroup>(document.Groups.Count);
        foreach (var group in document.Groups)
        {
            if (group is null || group.Count < 1 || group.Count > int.MaxValue || group.First > group.Last || group.Key is null)
            {
                problem = "its JSON part has a group without a key, a count or an order of times";
                return null;
            }
            groups.Add(group.Checked(MaxHosts, MaxExamples));
        }
        return document with
        {
            BatchKey = HeaderText.Cut(document.BatchKey ?? ""),
            Recipient = HeaderText.Cut(document.Recipient ?? ""),
            Groups = groups,
        };
    }
}

// One group of a digest document.
internal sealed record DigestDocumentGroup(
    string Key,
    string Subject,
    long Count,
    DateTimeOffset First,
    DateTimeOffset Last,
    IReadOnlyList<DigestDocumentHost> Hosts,
    long OtherHostMessages,
    IReadOnlyList<string> Examples)
{
    // Strings cut as the batcher cuts its own, lists bounded, host counts sane.
    public DigestDocumentGroup Checked(int maxHosts, int maxExamples) => this with
    {
        Key = HeaderText.Cut(Key),
        Subject = HeaderText.Cut(Subject ?? ""),
        Hosts = (Hosts ?? []).Where(h => h is not null && !string.IsNullOrEmpty(h.Host) && h.Count > 0 && h.Count <= Count)
            .Take(maxHosts).Select(h => h with { Host = HeaderText.Cut(h.Host) }).ToList(),
        OtherHostMessages = Math.Clamp(OtherHostMessages, 0, Count),
        Examples = (Examples ?? []).Where(e => !string.IsNullOrEmpty(e)).Take(maxExamples).Select(e => HeaderText.Cut(e)).ToList(),
    };
}

internal sealed record DigestDocumentHost(string Host, long Count);
