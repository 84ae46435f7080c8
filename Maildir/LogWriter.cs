using System.Buffers;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Failmail.Maildir;

// Group commit into the log: one thread takes every commit that is waiting, appends their
// records to the active segment in one pass and syncs the file once; only then do the
// SMTP sessions waiting on them say 250. No file is created per message, so a storm costs
// one write and one fsync per group instead of two new inodes per message.
//
// A segment is created (and its directory synced) before anything in it is acknowledged,
// rotated once it reaches the size limit (or is large with nothing live left), and sealed
// by renaming .open to .seg: a sealed segment is never written again and is deleted once
// every record in it is removed. A failed append is cut off again, so a segment only ever
// holds whole records followed at most by one torn group after a crash.
internal sealed class LogWriter
{
    internal const long DefaultSegmentLimit = 64L * 1024 * 1024;
    // A segment whose messages are all removed is replaced once it is this big.
    private const long RecycleSize = 1024 * 1024;
    // Beyond this a group's records are written in more than one write(2).
    private const int BufferSize = 256 * 1024;

    private readonly LogLayout _layout;
    private readonly LogIndex _index;
    private readonly ILogger _logger;
    private readonly StoreCounters _counters;
    private readonly TimeProvider _timeProvider;
    private readonly long _segmentLimit;
    private readonly Action<string> _deleting;
    private readonly MaildirName _names = new();
    private readonly Channel<LogCommit> _queue =
        Channel.CreateUnbounded<LogCommit>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _stem;
    private SafeFileHandle? _handle;
    private long _end;
    private long _removalsReadAt;

    // deleting: told before a segment with nothing live is deleted (the store's read handles).
    public LogWriter(LogLayout layout, LogIndex index, ILogger logger, StoreCounters counters, TimeProvider timeProvider, long segmentLimit,
        Action<string> deleting)
    {
        _deleting = deleting;
        _layout = layout;
        _index = index;
        _logger = logger;
        _counters = counters;
        _timeProvider = timeProvider;
        _segmentLimit = segmentLimit;
        new Thread(Run) { IsBackground = true, Name = "failmail-log-commit" }.Start();
    }

    public Task<ReceivedMessage> Enqueue(LogCommit commit)
    {
        if (!_queue.Writer.TryWrite(commit))
        {
            // An IOException like any other store failure, so SMTP answers 451 during shutdown.
            throw new IOException($"The message store {_layout.Directory} is closed");
        }
        return commit.Done.Task;
    }

    // Stops taking commits; the queued ones still complete, then the segment is sealed.
    public Task CompleteAsync()
    {
        _queue.Writer.TryComplete();
        return _stopped.Task;
    }

    private void Run()
    {
        var group = new List<LogCommit>();
        try
        {
            while (Wait(_queue.Reader))
            {
                group = [];
                while (_queue.Reader.TryRead(out var commit))
                {
                    group.Add(commit);
                }
                Commit(group);
                // Reopened by path for every group (one open(2) per fsync): a removed or
                // replaced directory is noticed at once, and no file is held open for
                // writing while idle, so the filesystem can be remounted read-only.
                CloseHandle();
            }
            Seal();
        }
        catch (Exception e)
        {
            // Each step handles I/O errors itself; anything else is a bug. Fail what is
            // waiting rather than leave SMTP sessions hanging.
            MaildirLog.CommitterCrashed(_logger, e);
            _queue.Writer.TryComplete(e);
            FailAll(group, e);
            var rest = new List<LogCommit>();
            while (_queue.Reader.TryRead(out var commit))
            {
                rest.Add(commit);
            }
            FailAll(rest, e);
        }
        finally
        {
            CloseHandle();
            _stopped.TrySetResult();
        }
    }

    private static bool Wait(ChannelReader<LogCommit> reader)
    {
        var ready = reader.WaitToReadAsync();
        return ready.IsCompleted ? ready.Result : ready.AsTask().GetAwaiter().GetResult();
    }

    private void Commit(List<LogCommit> group)
    {
        string path;
        try
        {
            path = EnsureSegment();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            FailAll(group, new IOException($"Cannot open the message log in {_layout.Directory}: {e.Message}", e));
            return;
        }
        var start = _end;
        var records = new List<(long, ReceivedMessage)>(group.Count);
        try
        {
            var handle = _handle!; // EnsureSegment opened it.
            var position = Append(handle, group, start, records);
            RandomAccess.FlushToDisk(handle);
            _end = position;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            CutOff(path, start);
            FailAll(group, new IOException($"Cannot append to {path}: {e.Message}", e));
            return;
        }
        _counters.DataSynced();
        _counters.GroupCommitted(group.Count);
        MaildirLog.GroupCommitted(_logger, group.Count);
        _index.Appended(_stem!, records, _end);
        // Seal before replying, so a sender that has its 250 sees the segment as it will stay
        // (a rename and a directory fsync once per 64 MB costs nothing worth replying early for).
        if (_end >= _segmentLimit)
        {
            Seal();
        }
        Release(group, records, null);
    }

    private long Append(SafeFileHandle handle, List<LogCommit> group, long position, List<(long, ReceivedMessage)> records)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var used = 0;
        try
        {
            void Put(ReadOnlySpan<byte> bytes)
            {
                while (bytes.Length > 0)
                {
                    if (used == buffer.Length)
                    {
                        RandomAccess.Write(handle, buffer.AsSpan(0, used), position);
                        position += used;
                        used = 0;
                    }
                    var part = Math.Min(bytes.Length, buffer.Length - used);
                    bytes[..part].CopyTo(buffer.AsSpan(used));
                    used += part;
                    bytes = bytes[part..];
                }
            }

            Span<byte> header = stackalloc byte[LogRecord.HeaderSize];
            foreach (var commit in group)
            {
                var offset = position + used;
                LogRecord.WriteHeader(header, commit.Meta.Length, LogRecord.Crc(0, commit.Meta), commit.BodyLength, commit.BodyCrc);
                Put(header);
                Put(commit.Meta);
                if (commit.Spill is { } spill)
                {
                    CopySpill(spill, commit.BodyLength, Put);
                }
                else
                {
                    Put(commit.Body.Span);
                }
                records.Add((offset, new ReceivedMessage(LogLayout.Id(_stem!, offset), commit.Envelope, commit.BodyLength)));
            }
            RandomAccess.Write(handle, buffer.AsSpan(0, used), position);
            return position + used;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private delegate void SpanSink(ReadOnlySpan<byte> bytes);

    private static void CopySpill(SafeFileHandle spill, long length, SpanSink put)
    {
        var chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            for (long done = 0; done < length;)
            {
                var read = RandomAccess.Read(spill, chunk.AsSpan(0, (int)Math.Min(chunk.Length, length - done)), done);
                if (read == 0)
                {
                    throw new IOException("the spill file is shorter than the message");
                }
                put(chunk.AsSpan(0, read));
                done += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    // Other processes' removals are read about once a second, not per group.
    private static readonly TimeSpan RemovalsInterval = TimeSpan.FromSeconds(1);

    // The active segment, opened for appending; a new one when there is none.
    private string EnsureSegment()
    {
        var now = _timeProvider.GetTimestamp();
        if (_removalsReadAt == 0 || _timeProvider.GetElapsedTime(_removalsReadAt, now) >= RemovalsInterval)
        {
            _removalsReadAt = now;
            _index.ReadOwnRemovals();
        }
        if (_stem is { } current && _index.LiveCount(current) == 0 && _end >= RecycleSize)
        {
            Seal();
        }
        if (_stem is { } stem)
        {
            var path = _layout.Open(stem);
            if (_handle is null)
            {
                try
                {
                    _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                }
                catch (FileNotFoundException)
                {
                    // Someone removed it (or the whole log directory) under us: start afresh.
                    _stem = null;
                    return EnsureSegment();
                }
            }
            return path;
        }
        var name = _names.Next(_timeProvider.GetUtcNow());
        var created = _layout.Open(name);
        _handle = File.OpenHandle(created, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            // The segment's name must be durable before any record in it is acknowledged.
            FileSync.Directory(_layout.Directory);
        }
        catch
        {
            CloseHandle();
            GroupCommitter.TryDelete(created);
            throw;
        }
        _stem = name;
        _end = 0;
        _index.Opened(name);
        return created;
    }

    // A failed append may have left part of the group: cut the file back to its last
    // record, or give the segment up if even that fails (a new one starts next time).
    private void CutOff(string path, long end)
    {
        try
        {
            if (_handle is { } handle)
            {
                RandomAccess.SetLength(handle, end);
                RandomAccess.FlushToDisk(handle);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MaildirLog.SegmentCleanupFailed(_logger, path, e.Message);
            Seal();
            return;
        }
        CloseHandle();
    }

    // Renames the active segment to .seg (never written again); deletes it if nothing in it
    // is live. Failures are logged: the next start's recovery seals what is left.
    private void Seal()
    {
        if (_stem is not { } stem)
        {
            return;
        }
        _stem = null;
        CloseHandle();
        try
        {
            File.Move(_layout.Open(stem), _layout.Sealed(stem));
            FileSync.Directory(_layout.Directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MaildirLog.SegmentCleanupFailed(_logger, _layout.Open(stem), e.Message);
            return;
        }
        if (_index.SealedOwn(stem))
        {
            _deleting(stem);
            _layout.DeleteSegment(stem);
            _index.Forget(stem);
        }
    }

    private void CloseHandle()
    {
        _handle?.Dispose();
        _handle = null;
    }

    private static void FailAll(List<LogCommit> commits, Exception e) => Release(commits, null, e);

    // Completes a group's commits in one thread-pool work item: the sessions waiting on them
    // resume there one after another (each only replies and goes back to reading its socket),
    // instead of one pool wake-up per message, and never on this thread, which must get on
    // with the next group.
    private static void Release(List<LogCommit> commits, List<(long, ReceivedMessage)>? records, Exception? error)
    {
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            var (commits, records, error) = state;
            for (var i = 0; i < commits.Count; i++)
            {
                if (error is null)
                {
                    // Success always comes with the records (Commit passes them).
                    commits[i].Done.TrySetResult(records![i].Item2);
                }
                else
                {
                    commits[i].Done.TrySetException(error);
                }
            }
        }, (commits, records, error), preferLocal: false);
    }
}
