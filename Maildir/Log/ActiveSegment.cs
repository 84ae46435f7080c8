using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Failmail.Maildir.Log;

// The segment the LogWriter appends to, and its lifecycle: created (and its directory
// synced) before anything in it is acknowledged, recycled once it is large with nothing
// live left, cut back after a failed append, and sealed by renaming .open to .seg (never
// written again; deleted at once if nothing in it is live). Owned by the writer's thread.
internal sealed class ActiveSegment
{
    // A segment whose messages are all removed is replaced once it is this big.
    private const long RecycleSize = 1024 * 1024;
    // Other processes' removals are read about once a second, not per group.
    private static readonly TimeSpan RemovalsInterval = TimeSpan.FromSeconds(1);

    private readonly LogLayout _layout;
    private readonly LogIndex _index;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Action<string> _deleting;
    private readonly MaildirName _names = new();
    private long _removalsReadAt;

    // deleting: told before a segment with nothing live is deleted (the store's read handles).
    public ActiveSegment(LogLayout layout, LogIndex index, ILogger logger, TimeProvider timeProvider, Action<string> deleting)
    {
        _layout = layout;
        _index = index;
        _logger = logger;
        _timeProvider = timeProvider;
        _deleting = deleting;
    }

    // The segment's name; null when there is none (the next Ensure starts one).
    public string? Stem { get; private set; }

    // Open for writing between Ensure and CloseHandle.
    public SafeFileHandle? Handle { get; private set; }

    // The end of the last whole record, where the next group goes.
    public long End { get; private set; }

    // A group's records up to end are synced.
    public void Appended(long end) => End = end;

    // The active segment's path, opened for appending; a new one when there is none.
    public string Ensure()
    {
        var now = _timeProvider.GetTimestamp();
        if (_removalsReadAt == 0 || _timeProvider.GetElapsedTime(_removalsReadAt, now) >= RemovalsInterval)
        {
            _removalsReadAt = now;
            _index.ReadOwnRemovals();
        }
        if (Stem is { } current && _index.LiveCount(current) == 0 && End >= RecycleSize)
        {
            Seal();
        }
        if (Stem is { } stem)
        {
            var path = _layout.Open(stem);
            if (Handle is null)
            {
                try
                {
                    Handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                }
                catch (FileNotFoundException)
                {
                    // Someone removed it (or the whole log directory) under us: start afresh.
                    Stem = null;
                    return Ensure();
                }
            }
            return path;
        }
        var name = _names.Next(_timeProvider.GetUtcNow());
        var created = _layout.Open(name);
        Handle = File.OpenHandle(created, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
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
        Stem = name;
        End = 0;
        _index.Opened(name);
        return created;
    }

    // A failed append may have left part of the group: cut the file back to its last
    // record, or give the segment up if even that fails (a new one starts next time).
    public void CutOff(string path, long end)
    {
        try
        {
            if (Handle is { } handle)
            {
                RandomAccess.SetLength(handle, end);
                RandomAccess.FlushToDisk(handle);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MaildirEvents.SegmentCleanupFailed(_logger, path, e.Message);
            Seal();
            return;
        }
        CloseHandle();
    }

    // Renames the active segment to .seg (never written again); deletes it if nothing in it
    // is live. Failures are logged: the next start's recovery seals what is left.
    public void Seal()
    {
        if (Stem is not { } stem)
        {
            return;
        }
        Stem = null;
        CloseHandle();
        try
        {
            File.Move(_layout.Open(stem), _layout.Sealed(stem));
            FileSync.Directory(_layout.Directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MaildirEvents.SegmentCleanupFailed(_logger, _layout.Open(stem), e.Message);
            return;
        }
        if (_index.SealedOwn(stem))
        {
            _deleting(stem);
            _layout.DeleteSegment(stem);
            _index.Forget(stem);
        }
    }

    public void CloseHandle()
    {
        Handle?.Dispose();
        Handle = null;
    }
}
