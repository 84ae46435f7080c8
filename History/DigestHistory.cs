using System.Globalization;
using System.Text;
using System.Text.Json;
using Failmail.Batching;

namespace Failmail.History;

// The last --history-size digests (and silenced messages), newest first, kept in
// --history-dir as two files each: NNNNNNNNNNNN-PID.json (the record) and .txt (the text), so
// a start reads only the small records. Bounded by count: past the limit the oldest
// pair is deleted. History is a view, not a store of mail: files are not fsynced, and a write
// that fails is counted and skipped, never an error for the sender that recorded it.
// Thread-safe (the relay worker and the batcher record, the API reads).
internal sealed class DigestHistory : IDigestHistory
{
    private readonly string _dir;
    private readonly int _size;
    private readonly Lock _lock = new();
    // Oldest first; the index finds an id's entry for a later outcome.
    private readonly LinkedList<HistoryEntry> _entries = new();
    private readonly Dictionary<string, LinkedListNode<HistoryEntry>> _byId = new(StringComparer.Ordinal);
    // Texts of an in-memory history (empty dir).
    private readonly Dictionary<long, string> _texts = new();
    private long _nextSeq = 1;
    private long _writeFailures;
    private long _changes;

    // dir: empty keeps the history in memory only (--memory-store).
    public DigestHistory(string dir, int size)
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        _dir = dir;
        _size = size;
        if (dir.Length > 0)
        {
            Load();
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    // Changes whenever a record is added or updated (for the event stream).
    public long Newest => Interlocked.Read(ref _changes);

    public long WriteFailures => Interlocked.Read(ref _writeFailures);

    public void Record(DigestRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_lock)
        {
            HistoryEntry entry;
            if (_byId.TryGetValue(record.Id, out var node))
            {
                entry = node.Value; // a later outcome of the same digest: same place, new facts
            }
            else
            {
                // The pid in the name: during a reload the old and the new process both record.
                var seq = _nextSeq++;
                entry = new HistoryEntry { Seq = seq, Id = record.Id, File = string.Create(CultureInfo.InvariantCulture, $"{seq:D12}-{Environment.ProcessId}") };
                _byId[record.Id] = _entries.AddLast(entry);
            }
            Interlocked.Increment(ref _changes);
            entry.Time = record.Time;
            entry.Recipient = record.Recipient;
            // A later outcome may know less (the relay's worker has no batch key): keep what was.
            entry.BatchKey = record.BatchKey.Length > 0 ? record.BatchKey : entry.BatchKey;
            entry.Subject = record.Subject.Length > 0 ? record.Subject : entry.Subject;
            entry.Size = record.Size > 0 ? record.Size : entry.Size;
            entry.Target = record.Target;
            entry.Outcome = record.Outcome;
            entry.Error = record.Error;
            Write(entry, record.Text.Length > 0 ? DigestRecord.Cut(record.Text) : null, record.TextBytes);
            while (_entries.Count > _size)
            {
                var oldest = _entries.First!.Value; // Count > size >= 1
                _entries.RemoveFirst();
                _byId.Remove(oldest.Id);
                Delete(oldest);
            }
        }
    }

    // Newest first: at most limit entries older than the one with id before (all when null).
    public IReadOnlyList<HistoryEntry> List(int limit, string? before)
    {
        lock (_lock)
        {
            var result = new List<HistoryEntry>(Math.Min(limit, _entries.Count));
            var node = before is not null && _byId.TryGetValue(before, out var start) ? start.Previous : before is null ? _entries.Last : null;
            for (; node is not null && result.Count < limit; node = node.Previous)
            {
                result.Add(Copy(node.Value));
            }
            return result;
        }
    }

    public HistoryEntry? Find(string id)
    {
        lock (_lock)
        {
            return _byId.TryGetValue(id, out var node) ? Copy(node.Value) : null;
        }
    }

    public string? Text(string id)
    {
        long seq;
        string file;
        lock (_lock)
        {
            if (!_byId.TryGetValue(id, out var node))
            {
                return null;
            }
            seq = node.Value.Seq;
            file = node.Value.File;
            if (_dir.Length == 0)
            {
                return _texts.GetValueOrDefault(seq, "");
            }
        }
        try
        {
            return File.ReadAllText(FilePath(file, ".txt"), Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static HistoryEntry Copy(HistoryEntry e) => new()
    {
        Seq = e.Seq, Id = e.Id, Time = e.Time, Recipient = e.Recipient, BatchKey = e.BatchKey, Subject = e.Subject,
        Size = e.Size, Target = e.Target, Outcome = e.Outcome, Error = e.Error,
    };

    private string FilePath(string file, string extension) => Path.Combine(_dir, file + extension);

    // bytes: the text as UTF-8 (DigestRecord.TextBytes), written as it is instead of text.
    private void Write(HistoryEntry entry, string? text, ReadOnlyMemory<byte> bytes)
    {
        var cut = bytes.Length > DigestRecord.MaxTextChars;
        bytes = cut ? bytes[..DigestRecord.MaxTextChars] : bytes;
        if (_dir.Length == 0)
        {
            if (!bytes.IsEmpty)
            {
                _texts[entry.Seq] = Encoding.UTF8.GetString(bytes.Span) + (cut ? DigestRecord.CutMarker : "");
            }
            else if (text is not null)
            {
                _texts[entry.Seq] = text;
            }
            return;
        }
        try
        {
            if (!bytes.IsEmpty)
            {
                using var file = new FileStream(FilePath(entry.File, ".txt"), FileMode.Create, FileAccess.Write, FileShare.Read, 1);
                file.Write(bytes.Span);
                if (cut)
                {
                    file.Write(Encoding.UTF8.GetBytes(DigestRecord.CutMarker));
                }
            }
            else if (text is not null)
            {
                File.WriteAllText(FilePath(entry.File, ".txt"), text, Encoding.UTF8);
            }
            // The record last, under a temporary name: a record on disk always has its text.
            var path = FilePath(entry.File, ".json");
            File.WriteAllBytes(path + ".tmp", JsonSerializer.SerializeToUtf8Bytes(entry, HistoryJsonContext.Default.HistoryEntry));
            File.Move(path + ".tmp", path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Interlocked.Increment(ref _writeFailures);
        }
    }

    private void Delete(HistoryEntry entry)
    {
        if (_dir.Length == 0)
        {
            _texts.Remove(entry.Seq);
            return;
        }
        try
        {
            File.Delete(FilePath(entry.File, ".json"));
            File.Delete(FilePath(entry.File, ".txt"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Interlocked.Increment(ref _writeFailures);
        }
    }

    // The records on disk, oldest first; the newest --history-size are kept, the rest and any
    // record that does not parse are deleted. A directory that cannot be made is a start-up
    // error (IOException naming the flag).
    private void Load()
    {
        try
        {
            Directory.CreateDirectory(_dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"--history-dir {_dir}: {e.Message}", e);
        }
        var found = new List<HistoryEntry>();
        foreach (var path in Directory.EnumerateFiles(_dir, "*.json"))
        {
            try
            {
                if (JsonSerializer.Deserialize(File.ReadAllBytes(path), HistoryJsonContext.Default.HistoryEntry) is { Id.Length: > 0 } entry)
                {
                    entry.File = Path.GetFileNameWithoutExtension(path);
                    found.Add(entry);
                    continue;
                }
            }
            catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
            {
            }
            TryDelete(path);
        }
        found.Sort((a, b) => a.Seq != b.Seq ? a.Seq.CompareTo(b.Seq) : a.Time.CompareTo(b.Time));
        foreach (var entry in found)
        {
            if (_byId.TryGetValue(entry.Id, out var twin))
            {
                _entries.Remove(twin);
                Delete(twin.Value);
            }
            _byId[entry.Id] = _entries.AddLast(entry);
            _nextSeq = Math.Max(_nextSeq, entry.Seq + 1);
        }
        while (_entries.Count > _size)
        {
            var oldest = _entries.First!.Value; // Count > size >= 1
            _entries.RemoveFirst();
            _byId.Remove(oldest.Id);
            Delete(oldest);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
