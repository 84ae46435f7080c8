using System.IO.Enumeration;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Failmail.Maildir;

// Lists committed messages from .meta/ (small JSON files; message bytes are never read)
// and moves poison entries into quarantine/ so one bad file never blocks the rest
// (failmail's whole-poll abort, spec §10 item 2). Per message it costs one read of the
// meta file: the cur/ listing needs no stat, and Size and Received come from the JSON
// (failmail's records, which lack them, cost a stat each).
internal sealed class MaildirScanner(MaildirLayout layout, ILogger logger)
{
    // Hidden files are listed too: an editor's .swp in .meta/ is poison, not invisible.
    private static readonly EnumerationOptions AllFiles = new()
    {
        AttributesToSkip = 0,
        IgnoreInaccessible = false,
        RecurseSubdirectories = false,
    };

    private int _quarantined;

    public int Quarantined => Volatile.Read(ref _quarantined);
    public int OrphansRemoved { get; private set; }

    // removeOrphans: only at start-up, when no commit can be between its two renames.
    public List<ReceivedMessage> Scan(bool removeOrphans)
    {
        // cur/ before .meta/: a message removed meanwhile (meta deleted first) then simply
        // has no meta; one committed meanwhile (cur renamed first) is re-checked below.
        var cur = new HashSet<string>(ListFiles(layout.Cur), StringComparer.Ordinal);

        var committed = new List<string>();
        foreach (var id in ListFiles(layout.Meta))
        {
            if (cur.Remove(id) || File.Exists(layout.CurFile(id)))
            {
                committed.Add(id);
            }
            else if (File.Exists(layout.MetaFile(id)))
            {
                Quarantine(id, "its message file is missing from cur/");
            }
        }

        // Reading the meta files is most of the cost (one open and read each): spread it
        // over the cores.
        var read = new ReceivedMessage?[committed.Count];
        Parallel.For(0, committed.Count, i => read[i] = Read(committed[i]));
        var messages = new List<ReceivedMessage>(committed.Count);
        foreach (var message in read)
        {
            if (message is not null)
            {
                messages.Add(message);
            }
        }

        if (removeOrphans)
        {
            foreach (var orphan in cur)
            {
                GroupCommitter.TryDelete(layout.CurFile(orphan));
                OrphansRemoved++;
                MaildirEvents.OrphanRemoved(logger, orphan);
            }
        }

        messages.Sort(static (a, b) =>
        {
            var byTime = a.Envelope.Received.CompareTo(b.Envelope.Received);
            return byTime != 0 ? byTime : string.CompareOrdinal(a.Id, b.Id);
        });
        return messages;
    }

    // Names of the regular files (and symlinks) in a directory, from readdir alone.
    private static FileSystemEnumerable<string> ListFiles(string directory) =>
        new(directory, static (ref FileSystemEntry entry) => entry.FileName.ToString(), AllFiles)
        {
            ShouldIncludePredicate = static (ref FileSystemEntry entry) => !entry.IsDirectory,
        };

    private ReceivedMessage? Read(string id)
    {
        var path = layout.MetaFile(id);
        byte[] json;
        try
        {
            json = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return null; // removed since the listing
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Quarantine(id, "unreadable envelope: " + e.Message);
            return null;
        }

        MetaRecord? record;
        try
        {
            record = JsonSerializer.Deserialize(json, MetaJsonContext.Default.MetaRecord);
        }
        catch (JsonException e)
        {
            Quarantine(id, "invalid envelope JSON: " + e.Message);
            return null;
        }
        try
        {
            // failmail's records carry no Received: the meta mtime was the receive time.
            var envelope = record?.ToEnvelope(() => MetaTime(path));
            if (envelope is null)
            {
                Quarantine(id, "the envelope has no recipients");
                return null;
            }
            var size = record?.Size ?? new FileInfo(layout.CurFile(id)).Length;
            return new ReceivedMessage(id, envelope, size);
        }
        catch (FileNotFoundException)
        {
            return null; // removed since the listing
        }
    }

    private static DateTimeOffset MetaTime(string path)
    {
        var info = new FileInfo(path);
        return info.Exists
            ? new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero)
            : throw new FileNotFoundException("removed since the listing", path);
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
            Interlocked.Increment(ref _quarantined);
            MaildirEvents.Quarantined(logger, id, layout.Quarantine, reason);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MaildirEvents.QuarantineFailed(logger, id, e.Message);
        }
    }
}
