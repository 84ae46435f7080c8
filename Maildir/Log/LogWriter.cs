using Microsoft.Extensions.Logging;

namespace Failmail.Maildir.Log;

// Group commit into the log: one thread takes every commit that is waiting, appends their
// records to the active segment in one pass and syncs the file once; only then do the
// SMTP sessions waiting on them say 250. No file is created per message, so a storm costs
// one write and one fsync per group instead of two new inodes per message.
//
// The segment (ActiveSegment) is created and its directory synced before anything in it is
// acknowledged, rotated once it reaches the size limit (or is large with nothing live
// left), and sealed by renaming .open to .seg: a sealed segment is never written again and
// is deleted once every record in it is removed. A failed append is cut off again, so a
// segment only ever holds whole records followed at most by one torn group after a crash.
//
// Per group, in this order: append (LogAppender), fsync, index, seal if full, and only then
// release the group (LogGroupRelease). Any failure fails the whole group.
internal sealed class LogWriter
{
    internal const long DefaultSegmentLimit = 64L * 1024 * 1024;

    private readonly LogLayout _layout;
    private readonly LogIndex _index;
    private readonly ILogger _logger;
    private readonly StoreCounters _counters;
    private readonly long _segmentLimit;
    private readonly ActiveSegment _segment;
    private readonly GroupQueue<LogCommit> _queue = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // deleting: told before a segment with nothing live is deleted (the store's read handles).
    public LogWriter(LogLayout layout, LogIndex index, ILogger logger, StoreCounters counters, TimeProvider timeProvider, long segmentLimit,
        Action<string> deleting)
    {
        _layout = layout;
        _index = index;
        _logger = logger;
        _counters = counters;
        _segmentLimit = segmentLimit;
        _segment = new ActiveSegment(layout, index, logger, timeProvider, deleting);
        new Thread(Run) { IsBackground = true, Name = "failmail-log-commit" }.Start();
    }

    public Task<ReceivedMessage> Enqueue(LogCommit commit)
    {
        if (!_queue.TryAdd(commit))
        {
            // An IOException like any other store failure, so SMTP answers 451 during shutdown.
            throw new IOException($"The message store {_layout.Directory} is closed");
        }
        return commit.Done.Task;
    }

    // Stops taking commits; the queued ones still complete, then the segment is sealed.
    public Task CompleteAsync()
    {
        _queue.Complete();
        return _stopped.Task;
    }

    private void Run()
    {
        var group = new List<LogCommit>();
        try
        {
            while (_queue.TryTakeGroup(out var taken))
            {
                group = taken;
                Commit(group);
                // Reopened by path for every group (one open(2) per fsync): a removed or
                // replaced directory is noticed at once, and no file is held open for
                // writing while idle, so the filesystem can be remounted read-only.
                _segment.CloseHandle();
            }
            _segment.Seal();
        }
        catch (Exception e)
        {
            // Each step handles I/O errors itself; anything else is a bug. Fail what is
            // waiting rather than leave SMTP sessions hanging.
            MaildirEvents.CommitterCrashed(_logger, e);
            _queue.Complete();
            LogGroupRelease.Fail(group, e);
            LogGroupRelease.Fail(_queue.TakeRest(), e);
        }
        finally
        {
            _segment.CloseHandle();
            _stopped.TrySetResult();
        }
    }

    private void Commit(List<LogCommit> group)
    {
        string path;
        try
        {
            path = _segment.Ensure();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogGroupRelease.Fail(group, new IOException($"Cannot open the message log in {_layout.Directory}: {e.Message}", e));
            return;
        }
        // Ensure opened the segment: it has a name and a handle.
        var stem = _segment.Stem!;
        var start = _segment.End;
        var records = new List<(long, ReceivedMessage)>(group.Count);
        try
        {
            var handle = _segment.Handle!;
            var position = LogAppender.Append(handle, stem, group, start, records);
            RandomAccess.FlushToDisk(handle);
            _segment.Appended(position);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _segment.CutOff(path, start);
            LogGroupRelease.Fail(group, new IOException($"Cannot append to {path}: {e.Message}", e));
            return;
        }
        _counters.DataSynced();
        _counters.GroupCommitted(group.Count);
        MaildirEvents.GroupCommitted(_logger, group.Count);
        _index.Appended(stem, records, _segment.End);
        // Seal before replying, so a sender that has its 250 sees the segment as it will stay
        // (a rename and a directory fsync once per 64 MB costs nothing worth replying early for).
        if (_segment.End >= _segmentLimit)
        {
            _segment.Seal();
        }
        LogGroupRelease.Succeed(group, records);
    }
}
