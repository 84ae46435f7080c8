using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Failmail.Maildir;

// Lists committed messages from .meta/ (small JSON files; message bytes are never read)
// and moves poison entries into quarantine/ so one bad file never blocks the rest
// (failmail's whole-poll abort, spec §10 item 2).
internal sealed class MaildirScanner(MaildirLayout layout, ILogger logger)
{
    // Hidden files are listed too: an editor's .swp in .meta/ is poison, not invisible.
    private static readonly EnumerationOptions AllFiles = new()
    {
        AttributesToSkip = 0,
        IgnoreInaccessible = false,
        RecurseSubdirectories = false,
    };

    public int Quarantined { get; private set; }
    public int OrphansRemoved { get; private set; }

    // removeOrphans: only at start-up, when no commit can be between its two renames.
    public List<ReceivedMessage> Scan(bool removeOrphans)
    {
        // cur/ before .meta/: a message removed meanwhile (meta deleted first) then simply
        // has no meta; one committed meanwhile (cur renamed first) is re-checked below.
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var file in new DirectoryInfo(layout.Cur).EnumerateFiles("*", AllFiles))
        {
            sizes[file.Name] = file.Length;
        }

        var messages = new List<ReceivedMessage>();
        foreach (var meta in new DirectoryInfo(layout.Meta).EnumerateFiles("*", AllFiles))
        {
            var id = meta.Name;
            if (!sizes.Remove(id, out var size))
            {
                var cur = new FileInfo(layout.CurFile(id));
                if (!cur.Exists)
                {
                    if (File.Exists(meta.FullName))
                    {
                        Quarantine(id, "its message file is missing from cur/");
                    }
                    continue;
                }
                size = cur.Length;
            }
            if (Read(meta) is { } envelope)
            {
                messages.Add(new ReceivedMessage(id, envelope, size));
            }
        }

        if (removeOrphans)
        {
            foreach (var orphan in sizes.Keys)
            {
                GroupCommitter.TryDelete(layout.CurFile(orphan));
                OrphansRemoved++;
                MaildirLog.OrphanRemoved(logger, orphan);
            }
        }

        messages.Sort(static (a, b) =>
        {
            var byTime = a.Envelope.Received.CompareTo(b.Envelope.Received);
            return byTime != 0 ? byTime : string.CompareOrdinal(a.Id, b.Id);
        });
        return messages;
    }

    private Envelope? Read(FileInfo meta)
    {
        byte[] json;
        try
        {
            json = File.ReadAllBytes(meta.FullName);
        }
        catch (FileNotFoundException)
        {
            return null; // removed since the listing
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Quarantine(meta.Name, "unreadable envelope: " + e.Message);
            return null;
        }

        MetaRecord? record;
        try
        {
            record = JsonSerializer.Deserialize(json, MetaJsonContext.Default.MetaRecord);
        }
        catch (JsonException e)
        {
            Quarantine(meta.Name, "invalid envelope JSON: " + e.Message);
            return null;
        }
        // failmail's stores carry no Received: the meta mtime was the receive time.
        var envelope = record?.ToEnvelope(new DateTimeOffset(meta.LastWriteTimeUtc, TimeSpan.Zero));
        if (envelope is null)
        {
            Quarantine(meta.Name, "the envelope has no recipients");
        }
        return envelope;
    }

    // quarantine/<id>.meta and quarantine/<id>: out of the store's way, kept for a human.
    private void Quarantine(string id, string reason)
    {
        try
        {
            Directory.CreateDirectory(layout.Quarantine);
            File.Move(layout.MetaFile(id), Path.Combine(layout.Quarantine, id + ".meta"), overwrite: true);
            if (File.Exists(layout.CurFile(id)))
            {
                File.Move(layout.CurFile(id), Path.Combine(layout.Quarantine, id), overwrite: true);
            }
            Quarantined++;
            MaildirLog.Quarantined(logger, id, layout.Quarantine, reason);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MaildirLog.QuarantineFailed(logger, id, e.Message);
        }
    }
}
