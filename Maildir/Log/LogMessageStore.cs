using System.Buffers.Binary;
using Microsoft.Extensions.Logging;

namespace Failmail.Maildir.Log;

// The durable incoming store behind --message-store. New messages go into an append-only
// log under <root>/log/ (LogWriter: one write and one fsync per group of concurrent
// commits, no file per message); the maildir beside it (cur/ and .meta/, Go failmail's
// layout, see MaildirMessageStore) is still read, so a store left by failmail or by an
// earlier version of ours is delivered and drained as before.
//
// Why not one file per message, as failmail did: every message then costs two new inodes,
// renames, directory syncs and later two unlinks. On the ext4 here that was about 1.3 ms
// of kernel CPU per message (inode allocation skips recently deleted inodes, and a storm
// deletes thousands) and capped the store near 900 msgs/s over SMTP.
//
// On-disk invariants (see LogLayout for the paths):
//   - A record is acknowledged only after the segment holding it is fsynced, and after
//     the directory entry of a new segment is synced.
//   - A segment ends on a record boundary, except the .open segment of a process that
//     crashed mid-append; recovery cuts that torn tail off (it was never acknowledged).
//   - A record is removed once its offset is in the segment's .del file (synced).
//   - A .seg file is never written again; it is deleted when every record in it is removed.
internal sealed class LogMessageStore : IMessageStore, IMessageReadInto, IDisposable
{
    private readonly MaildirMessageStore _maildir;
    private readonly LogLayout _layout;
    private readonly LogIndex _index;
    private readonly LogWriter _writer;
    private readonly LogReaders _readers;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly MaildirName _spillNames = new();
    private readonly Lock _removeGate = new();

    public LogMessageStore(string root, ILoggerFactory loggerFactory, TimeProvider timeProvider)
        : this(root, loggerFactory, timeProvider, recover: true, LogWriter.DefaultSegmentLimit)
    {
    }

    // recover: false for a store that another live failmail also writes (a reload child
    // while its parent drains, --sender beside a running --receiver): recovery would seal
    // the other's active segment and cut records it is about to sync.
    internal LogMessageStore(string root, ILoggerFactory loggerFactory, TimeProvider timeProvider, bool recover, long segmentLimit)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _maildir = recover
            ? new MaildirMessageStore(root, loggerFactory, timeProvider)
            : MaildirMessageStore.OpenForAppend(root, loggerFactory, timeProvider);
        _logger = loggerFactory.CreateLogger<LogMessageStore>();
        _timeProvider = timeProvider;
        _layout = new LogLayout(_maildir.Root);
        _layout.Create();
        // The segments' directory syncs cover their names; these make log/ itself (and a
        // store created just now) durable before the first acknowledgement.
        FileSync.Directory(_maildir.Root);
        if (Path.GetDirectoryName(_maildir.Root) is { Length: > 0 } parent)
        {
            try
            {
                FileSync.Directory(parent);
            }
            catch (IOException)
            {
                // A parent we may not open (mode 711): the store existed before, most likely.
            }
        }
        _index = new LogIndex(_layout, _logger);
        _readers = new LogReaders(_layout);
        if (recover)
        {
            try
            {
                Recover();
            }
            catch (UnauthorizedAccessException e)
            {
                throw new IOException($"Cannot read the message log {_layout.Directory}: {e.Message}", e);
            }
        }
        _writer = new LogWriter(_layout, _index, _logger, Counters, timeProvider, segmentLimit, _readers.Drop);
    }

    internal static LogMessageStore OpenForAppend(string root, ILoggerFactory loggerFactory, TimeProvider timeProvider) =>
        new(root, loggerFactory, timeProvider, recover: false, LogWriter.DefaultSegmentLimit);

    public string Root => _maildir.Root;

    internal StoreCounters Counters { get; } = new();

    // Messages the index holds as live (tests: a receiver alone must not hold them forever).
    internal int TrackedMessages => _index.LiveTotal;

    public IMessageDraft CreateDraft() =>
        new LogDraft(_writer, _layout, _spillNames.Next(_timeProvider.GetUtcNow()), _logger);

    // The log's live messages and the maildir's, oldest first.
    public IReadOnlyList<ReceivedMessage> LoadPending()
    {
        var pending = _index.Refresh();
        _readers.DropMissing();
        pending.AddRange(_maildir.LoadPending());
        pending.Sort(static (a, b) =>
        {
            var byTime = a.Envelope.Received.CompareTo(b.Envelope.Received);
            return byTime != 0 ? byTime : string.CompareOrdinal(a.Id, b.Id);
        });
        return pending;
    }

    public Stream OpenRead(string id)
    {
        if (!LogLayout.IsLogId(id))
        {
            return _maildir.OpenRead(id);
        }
        if (!LogLayout.TryParseId(id, out var stem, out var offset))
        {
            throw new ArgumentException($"not a message id: {id}", nameof(id));
        }
        byte[]? body;
        try
        {
            body = _readers.ReadBody(stem, offset);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"message {id} is no longer in the store", id, e);
        }
        return body is null
            ? throw new FileNotFoundException($"no message at offset {offset} of segment {stem}", id)
            : new MemoryStream(body, 0, body.Length, writable: false, publiclyVisible: true);
    }

    // OpenRead into the batcher's buffer; a legacy maildir message is read as OpenRead would.
    public ArraySegment<byte> ReadInto(string id, Func<int, byte[]> buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (!LogLayout.IsLogId(id))
        {
            using var stream = _maildir.OpenRead(id);
            var length = checked((int)stream.Length);
            var array = buffer(length);
            stream.ReadExactly(array, 0, length);
            return new ArraySegment<byte>(array, 0, length);
        }
        if (!LogLayout.TryParseId(id, out var stem, out var offset))
        {
            throw new ArgumentException($"not a message id: {id}", nameof(id));
        }
        ArraySegment<byte>? body;
        try
        {
            body = _readers.ReadBody(stem, offset, buffer);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"message {id} is no longer in the store", id, e);
        }
        return body ?? throw new FileNotFoundException($"no message at offset {offset} of segment {stem}", id);
    }

    // Failures are logged, not thrown: a message that could not be removed is at worst sent
    // again after a restart, while an exception here would stop the batcher.
    public void Remove(IEnumerable<string> ids)
    {
        var legacy = new List<string>();
        var byStem = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            if (!LogLayout.IsLogId(id))
            {
                legacy.Add(id);
            }
            else if (LogLayout.TryParseId(id, out var stem, out var offset))
            {
                if (!byStem.TryGetValue(stem, out var offsets))
                {
                    byStem[stem] = offsets = [];
                }
                offsets.Add(offset);
            }
        }
        if (legacy.Count > 0)
        {
            _maildir.Remove(legacy);
        }
        lock (_removeGate)
        {
            foreach (var (stem, offsets) in byStem)
            {
                if (!AppendTombstones(stem, offsets))
                {
                    continue;
                }
                if (_index.Removed(stem, offsets))
                {
                    _readers.Drop(stem);
                    _layout.DeleteSegment(stem);
                    _index.Forget(stem);
                }
            }
        }
    }

    // For /healthz: can a message be committed now? Drafts stay in memory until their
    // commit, so this opens a file in the log directory the way a new segment would.
    public void CheckWritable()
    {
        var probe = Path.Combine(_layout.Directory, $".probe.{Environment.ProcessId}");
        using var handle = File.OpenHandle(probe, FileMode.Create, FileAccess.Write, FileShare.None, FileOptions.DeleteOnClose);
        RandomAccess.Write(handle, "probe\n"u8, 0);
    }

    // Waits for queued commits and seals the active segment; later commits fail with IOException.
    public void Dispose()
    {
        _writer.CompleteAsync().GetAwaiter().GetResult();
        _readers.Dispose();
        _maildir.Dispose();
    }

    private bool AppendTombstones(string stem, List<long> offsets)
    {
        var path = _layout.Removed(stem);
        var bytes = new byte[offsets.Count * sizeof(long)];
        for (var i = 0; i < offsets.Count; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * sizeof(long)), offsets[i]);
        }
        try
        {
            var created = !File.Exists(path);
            using (var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }
            if (created)
            {
                FileSync.Directory(_layout.Directory);
            }
            Counters.RemoveSynced();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MaildirEvents.RemoveFailed(_logger, LogLayout.Id(stem, offsets[0]), e.Message);
            return false;
        }
    }

    // Start-up, when no other process writes the log: empty spill/, cut torn tails off the
    // segments of crashed processes and seal them, read everything, and delete segments
    // (and tombstone files) that hold nothing live.
    private void Recover()
    {
        foreach (var spill in Directory.EnumerateFiles(_layout.Spill))
        {
            GroupCommitter.TryDelete(spill);
        }
        var sealedAny = false;
        foreach (var path in Directory.EnumerateFiles(_layout.Directory, "*" + LogLayout.OpenSuffix))
        {
            var stem = Path.GetFileName(path)[..^LogLayout.OpenSuffix.Length];
            CutTornTail(path, stem);
            File.Move(path, _layout.Sealed(stem));
            sealedAny = true;
        }
        if (sealedAny)
        {
            FileSync.Directory(_layout.Directory);
        }
        var pending = _index.Refresh();
        foreach (var stem in _index.Deletable())
        {
            _layout.DeleteSegment(stem);
            _index.Forget(stem);
        }
        foreach (var path in Directory.EnumerateFiles(_layout.Directory, "*" + LogLayout.RemovedSuffix))
        {
            var stem = Path.GetFileName(path)[..^LogLayout.RemovedSuffix.Length];
            if (!File.Exists(_layout.Sealed(stem)))
            {
                GroupCommitter.TryDelete(path);
            }
        }
        MaildirEvents.LogOpened(_logger, _layout.Directory, pending.Count);
    }

    private void CutTornTail(string path, string stem)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        var result = LogSegmentScanner.Scan(handle, stem, 0, static (_, _) => { });
        if (result.Stop == LogSegmentScanner.Stop.Incomplete)
        {
            var length = RandomAccess.GetLength(handle);
            RandomAccess.SetLength(handle, result.ScannedTo);
            RandomAccess.FlushToDisk(handle);
            MaildirEvents.SegmentTruncated(_logger, path, length - result.ScannedTo);
        }
    }
}
