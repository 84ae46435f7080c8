using System.Buffers.Binary;
using Microsoft.Extensions.Logging;

namespace Failmail.Maildir.Log;

// What this process knows about the log: per segment, the messages not yet removed. Its
// own segments are filled in by the LogWriter as it commits; other processes' segments
// (a reload parent's, the receiver's in --sender mode, a crashed predecessor's) are read
// incrementally by Refresh. Tombstones come from the .del files. Thread-safe.
internal sealed class LogIndex(LogLayout layout, ILogger logger)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Segment> _segments = new(StringComparer.Ordinal);

    // The writer's new segment (empty, synced, listed in the directory).
    public void Opened(string stem)
    {
        lock (_gate)
        {
            _segments[stem] = new Segment(stem) { Own = true, Complete = true };
        }
    }

    public void Appended(string stem, List<(long Offset, ReceivedMessage Message)> records, long end)
    {
        lock (_gate)
        {
            var segment = _segments[stem];
            foreach (var (offset, message) in records)
            {
                if (!segment.Removed.Contains(offset))
                {
                    segment.Live[offset] = message;
                }
            }
            segment.ScannedTo = end;
        }
    }

    // The writer renamed its segment to .seg; true when nothing in it is live (delete it).
    public bool SealedOwn(string stem)
    {
        lock (_gate)
        {
            var segment = _segments[stem];
            segment.Sealed = true;
            return segment.Live.Count == 0;
        }
    }

    public int LiveCount(string stem)
    {
        lock (_gate)
        {
            return _segments.TryGetValue(stem, out var segment) ? segment.Live.Count : 0;
        }
    }

    // Tombstones that another process wrote for this process's own segments (a --sender
    // removing what this --receiver wrote), and own segments it has deleted. Without this a
    // receiver alone would keep every message it ever wrote in this index.
    public void ReadOwnRemovals()
    {
        lock (_gate)
        {
            foreach (var segment in _segments.Values.Where(s => s.Own).ToList())
            {
                if (segment.Sealed && !File.Exists(layout.Sealed(segment.Stem)))
                {
                    _segments.Remove(segment.Stem);
                    continue;
                }
                ReadRemoved(segment);
            }
        }
    }

    // Messages this index holds as live, for tests.
    public int LiveTotal
    {
        get
        {
            lock (_gate)
            {
                return _segments.Values.Sum(s => s.Live.Count);
            }
        }
    }

    public void Forget(string stem)
    {
        lock (_gate)
        {
            _segments.Remove(stem);
        }
    }

    // Reads whatever other processes appended or removed since the last call, and returns
    // every live message.
    public List<ReceivedMessage> Refresh()
    {
        lock (_gate)
        {
            var listed = ListSegments();
            foreach (var stem in _segments.Keys.Where(s => !_segments[s].Own && !listed.ContainsKey(s)).ToList())
            {
                // Deleted by another process (all of it removed), or by recovery.
                _segments.Remove(stem);
            }
            foreach (var (stem, isSealed) in listed)
            {
                if (!_segments.TryGetValue(stem, out var segment))
                {
                    segment = new Segment(stem);
                    _segments[stem] = segment;
                }
                ReadRemoved(segment);
                if (!segment.Own)
                {
                    segment.Sealed |= isSealed;
                    ScanNew(segment);
                }
            }
            return [.. _segments.Values.SelectMany(s => s.Live.Values)];
        }
    }

    // Marks messages removed (the tombstones are already durable). Returns true when the
    // segment is sealed, fully read and has nothing live left: the caller deletes it.
    public bool Removed(string stem, IReadOnlyList<long> offsets)
    {
        lock (_gate)
        {
            if (!_segments.TryGetValue(stem, out var segment))
            {
                return false;
            }
            foreach (var offset in offsets)
            {
                segment.Removed.Add(offset);
                segment.Live.Remove(offset);
            }
            if (!segment.Own && segment.Sealed && !segment.Damaged)
            {
                // Records appended since the last Refresh may still be live.
                ReadRemoved(segment);
                ScanNew(segment);
            }
            return segment.Sealed && !segment.Damaged && segment.Complete && segment.Live.Count == 0;
        }
    }

    // Sealed, fully read segments with nothing live: recovery deletes them.
    public List<string> Deletable()
    {
        lock (_gate)
        {
            return [.. _segments.Values.Where(s => s.Sealed && s.Complete && !s.Damaged && s.Live.Count == 0).Select(s => s.Stem)];
        }
    }

    private Dictionary<string, bool> ListSegments()
    {
        var listed = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(layout.Directory))
        {
            var name = Path.GetFileName(path);
            if (name.EndsWith(LogLayout.SealedSuffix, StringComparison.Ordinal))
            {
                listed[name[..^LogLayout.SealedSuffix.Length]] = true;
            }
            else if (name.EndsWith(LogLayout.OpenSuffix, StringComparison.Ordinal))
            {
                listed.TryAdd(name[..^LogLayout.OpenSuffix.Length], false);
            }
        }
        return listed;
    }

    private void ScanNew(Segment segment)
    {
        if (segment.Damaged)
        {
            return;
        }
        var path = segment.Sealed ? layout.Sealed(segment.Stem) : layout.Open(segment.Stem);
        LogSegmentScanner.Result result;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            result = LogSegmentScanner.Scan(handle, segment.Stem, segment.ScannedTo, (offset, message) =>
            {
                if (message is null)
                {
                    MaildirEvents.RecordUnusable(logger, LogLayout.Id(segment.Stem, offset));
                }
                else if (!segment.Removed.Contains(offset))
                {
                    segment.Live[offset] = message;
                }
            });
        }
        catch (FileNotFoundException)
        {
            // Sealed (renamed) or deleted meanwhile: the next Refresh sees its new name.
            return;
        }
        segment.ScannedTo = result.ScannedTo;
        segment.Complete = result.Stop == LogSegmentScanner.Stop.End || (segment.Sealed && result.Stop == LogSegmentScanner.Stop.Incomplete);
        if (result.Stop == LogSegmentScanner.Stop.Unreadable || (segment.Sealed && result.Stop == LogSegmentScanner.Stop.Incomplete))
        {
            // A sealed segment was closed cleanly or truncated by recovery: it must end on a
            // record boundary. Keep it for a human; never delete it automatically.
            segment.Damaged = true;
            MaildirEvents.SegmentDamaged(logger, path, result.ScannedTo);
        }
    }

    private void ReadRemoved(Segment segment)
    {
        var path = layout.Removed(segment.Stem);
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = RandomAccess.GetLength(handle);
            // A tombstone is 8 bytes, appended whole; a torn last one is ignored.
            var end = length - (length % sizeof(long));
            if (end <= segment.RemovedReadTo)
            {
                return;
            }
            var bytes = new byte[end - segment.RemovedReadTo];
            var read = RandomAccess.Read(handle, bytes, segment.RemovedReadTo);
            for (var i = 0; i + sizeof(long) <= read; i += sizeof(long))
            {
                var offset = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(i));
                segment.Removed.Add(offset);
                segment.Live.Remove(offset);
            }
            segment.RemovedReadTo += read - (read % sizeof(long));
        }
        catch (FileNotFoundException)
        {
            // Nothing removed from this segment yet.
        }
    }

    private sealed class Segment(string stem)
    {
        public string Stem { get; } = stem;
        // Written by this process's LogWriter: the index is complete without scanning.
        public bool Own { get; init; }
        public bool Sealed { get; set; }
        public bool Damaged { get; set; }
        public bool Complete { get; set; }
        public long ScannedTo { get; set; }
        public long RemovedReadTo { get; set; }
        public Dictionary<long, ReceivedMessage> Live { get; } = [];
        public HashSet<long> Removed { get; } = [];
    }
}
