using System.Security.Cryptography;
using System.Text.Json;
using Failmail.Maildir;

namespace Failmail.Outputs;

// One output's durable queue: a directory with one JSON file per post (OutputEntry), written
// to a .tmp name, fsynced, renamed and the directory fsynced before Add returns, so a digest
// handed to an output survives kill -9. Without a directory (--memory-store) it is memory
// only. The index is in memory, oldest first; the router adds while the worker reads and
// removes, so every access takes the lock. Adopt picks up files another process wrote
// (`failmail resend`).
internal sealed class OutputQueue
{
    private const string Extension = ".json";

    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, OutputEntry> _entries = new(StringComparer.Ordinal);
    private readonly HashSet<string> _corrupt = new(StringComparer.Ordinal);

    public OutputQueue(string? directory, bool recover = true)
    {
        Directory = directory;
        if (directory is null)
        {
            return;
        }
        System.IO.Directory.CreateDirectory(directory);
        if (recover)
        {
            // A .tmp file is a write that never committed: its digest is still in the incoming store.
            foreach (var tmp in System.IO.Directory.GetFiles(directory, "*.tmp"))
            {
                File.Delete(tmp);
            }
        }
        _ = Adopt();
    }

    public string? Directory { get; }

    // Forgets entries whose files another process removed (a reload parent delivered them)
    // and adopts the ones it added.
    public void Resync()
    {
        if (Directory is null)
        {
            return;
        }
        lock (_lock)
        {
            foreach (var id in _entries.Keys.Where(id => !File.Exists(Path.Combine(Directory, id + Extension))).ToList())
            {
                _ = _entries.Remove(id);
            }
        }
        _ = Adopt();
    }

    public int Count
    {
        get { lock (_lock) { return _entries.Count; } }
    }

    // Corrupt files found (renamed *.json.corrupt and left for the operator).
    public int Corrupt
    {
        get { lock (_lock) { return _corrupt.Count; } }
    }

    public List<OutputEntry> Snapshot()
    {
        lock (_lock)
        {
            return [.. _entries.Values];
        }
    }

    public OutputEntry Add(OutputSummary summary, DateTimeOffset queued)
    {
        var entry = new OutputEntry { Id = NewId(queued), Queued = queued, Summary = summary };
        Write(entry);
        return entry;
    }

    // Commits the entry (durable before it returns) and indexes it.
    public void Write(OutputEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (Directory is not null)
        {
            WriteFile(Directory, entry);
        }
        lock (_lock)
        {
            _entries[entry.Id] = entry;
        }
    }

    public void Remove(string id)
    {
        lock (_lock)
        {
            _ = _entries.Remove(id);
        }
        if (Directory is not null)
        {
            // A delete lost to a crash repeats one accepted post at worst.
            File.Delete(Path.Combine(Directory, id + Extension));
        }
    }

    // Indexes the committed files not yet known; returns how many.
    public int Adopt()
    {
        if (Directory is null)
        {
            return 0;
        }
        var added = 0;
        foreach (var path in System.IO.Directory.GetFiles(Directory, "*" + Extension))
        {
            var id = Path.GetFileNameWithoutExtension(path);
            lock (_lock)
            {
                if (_entries.ContainsKey(id) || _corrupt.Contains(id))
                {
                    continue;
                }
            }
            OutputEntry? entry;
            try
            {
                entry = JsonSerializer.Deserialize(File.ReadAllBytes(path), OutputsJsonContext.Default.OutputEntry);
            }
            catch (FileNotFoundException)
            {
                continue; // delivered meanwhile
            }
            catch (JsonException)
            {
                entry = null;
            }
            lock (_lock)
            {
                if (entry is null || entry.Id != id || entry.Summary is null)
                {
                    // Hostile or truncated by hand: set aside, never retried in a loop.
                    _corrupt.Add(id);
                    TryRename(path, path + ".corrupt");
                    continue;
                }
                added += _entries.TryAdd(id, entry) ? 1 : 0;
            }
        }
        if (added > 0)
        {
            DropMergedParts();
        }
        return added;
    }

    // Parts of a merge that a crash left beside the merged entry (OutputEntry.MergedFrom).
    private void DropMergedParts()
    {
        List<string> parts;
        lock (_lock)
        {
            var merged = _entries.Values.SelectMany(e => e.MergedFrom ?? []).ToHashSet(StringComparer.Ordinal);
            parts = [.. _entries.Keys.Where(merged.Contains)];
        }
        foreach (var id in parts)
        {
            Remove(id);
        }
    }

    // Sortable: queue time, then this process's sequence (posts queued within one clock tick
    // keep their order), then a random part (another process, `failmail resend`).
    public static string NewId(DateTimeOffset queued) =>
        $"{queued.UtcTicks:D19}-{Interlocked.Increment(ref s_sequence):D10}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";

    private static long s_sequence;

    // Durable write of one entry into a queue directory (also `failmail resend`'s way in).
    public static void WriteFile(string directory, OutputEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        System.IO.Directory.CreateDirectory(directory);
        var final = Path.Combine(directory, entry.Id + Extension);
        var tmp = Path.Combine(directory, entry.Id + ".tmp");
        using (var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(file, entry, OutputsJsonContext.Default.OutputEntry);
            file.Flush(flushToDisk: true);
        }
        File.Move(tmp, final, overwrite: true);
        FileSync.Directory(directory);
    }

    private static void TryRename(string from, string to)
    {
        try
        {
            File.Move(from, to, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left in place; the id is remembered as corrupt for this run.
        }
    }
}
