using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Failmail.Maildir;

// Group commit: one loop takes every commit that is waiting, publishes them together and
// syncs each directory once for the whole group, so concurrent SMTP sessions share the
// directory fsyncs instead of queueing behind each other's. With CommitSync.PerFile the
// file fsyncs happen before a commit is queued, in parallel on the sessions' threads;
// with CommitSync.FileSystem step 2 is one syncfs(2) that also covers the files.
//
// Publication order per group, which makes ".meta/<id> exists" equal to "committed":
//   1. rename tmp/<name> -> cur/<id> for all;       2. fsync cur/ (or syncfs)
//   3. rename tmp/<name>.meta -> .meta/<id> for all; 4. fsync .meta/
//   5. complete all (only now may SMTP say 250)
// A crash before 4 can leave cur/ files without meta (never acknowledged: recovery
// deletes them) but never a meta whose message bytes are not durable.
internal sealed class GroupCommitter
{
    private readonly MaildirLayout _layout;
    private readonly CommitSync _sync;
    private readonly int _rootFd = -1;
    private readonly ILogger _logger;
    private readonly StoreCounters _counters;
    private readonly Channel<PendingCommit> _queue =
        Channel.CreateUnbounded<PendingCommit>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public GroupCommitter(MaildirLayout layout, ILogger logger, StoreCounters counters, CommitSync sync = CommitSync.PerFile)
    {
        _layout = layout;
        _sync = sync;
        if (sync == CommitSync.FileSystem)
        {
            _rootFd = FileSync.OpenDirectory(layout.Root);
        }
        _logger = logger;
        _counters = counters;
        // A thread of its own: the sessions block pool threads in fsync, and the loop that
        // releases them must not wait for the pool to grow.
        new Thread(Run) { IsBackground = true, Name = "maildir-committer" }.Start();
    }

    public Task<ReceivedMessage> Enqueue(PendingCommit commit)
    {
        if (!_queue.Writer.TryWrite(commit))
        {
            // An IOException like any other store failure, so SMTP answers 451 during shutdown.
            throw new IOException($"The message store {_layout.Root} is closed");
        }
        return commit.Done.Task;
    }

    public CommitSync Sync => _sync;

    // Stops taking commits; the ones already queued still complete.
    public Task CompleteAsync()
    {
        _queue.Writer.TryComplete();
        return _stopped.Task;
    }

    private void Run()
    {
        var group = new List<PendingCommit>();
        try
        {
            while (WaitForCommits())
            {
                group.Clear();
                while (_queue.Reader.TryRead(out var commit))
                {
                    group.Add(commit);
                }
                Commit(group);
            }
        }
        catch (Exception e)
        {
            // Commit handles I/O errors per message; anything else is a bug. Fail what is
            // waiting rather than leaving SMTP sessions hanging forever.
            MaildirLog.CommitterCrashed(_logger, e);
            _queue.Writer.TryComplete(e);
            foreach (var commit in group)
            {
                commit.Done.TrySetException(e);
            }
            while (_queue.Reader.TryRead(out var commit))
            {
                commit.Done.TrySetException(e);
            }
        }
        finally
        {
            if (_rootFd >= 0)
            {
                FileSync.CloseDirectory(_rootFd);
            }
            _stopped.TrySetResult();
        }
    }

    private bool WaitForCommits()
    {
        var ready = _queue.Reader.WaitToReadAsync();
        return ready.IsCompleted ? ready.Result : ready.AsTask().GetAwaiter().GetResult();
    }

    // Synchronous and separate from the loop so tests can hand it a whole group.
    internal void Commit(IReadOnlyList<PendingCommit> group)
    {
        var moved = new List<PendingCommit>(group.Count);
        foreach (var commit in group)
        {
            if (Try(commit, () => File.Move(_layout.TmpData(commit.Name), _layout.CurFile(commit.Id), overwrite: true)))
            {
                moved.Add(commit);
            }
        }
        if (moved.Count == 0 || !SyncOrFail(_layout.Cur, moved, wholeFileSystem: _sync == CommitSync.FileSystem))
        {
            return;
        }

        var published = new List<PendingCommit>(moved.Count);
        foreach (var commit in moved)
        {
            if (Try(commit, () => File.Move(_layout.TmpMeta(commit.Name), _layout.MetaFile(commit.Id), overwrite: true)))
            {
                published.Add(commit);
            }
        }
        if (published.Count == 0 || !SyncOrFail(_layout.Meta, published))
        {
            return;
        }

        _counters.GroupCommitted(published.Count);
        MaildirLog.GroupCommitted(_logger, published.Count);
        foreach (var commit in published)
        {
            commit.Done.TrySetResult(commit.Message);
        }
    }

    private bool Try(PendingCommit commit, Action step)
    {
        try
        {
            step();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(commit, e);
            return false;
        }
    }

    private bool SyncOrFail(string directory, List<PendingCommit> commits, bool wholeFileSystem = false)
    {
        try
        {
            if (wholeFileSystem)
            {
                FileSync.FileSystem(_rootFd, _layout.Root);
            }
            else
            {
                FileSync.Directory(directory);
            }
            _counters.DirectorySynced();
            return true;
        }
        catch (IOException e)
        {
            foreach (var commit in commits)
            {
                Fail(commit, e);
            }
            return false;
        }
    }

    // Undoes whatever of the commit is visible, meta first (that uncommits it), and tells
    // the draft. The client then gets a 4xx and sends again: no loss, at worst a duplicate
    // if the undo itself fails and the machine crashes.
    private void Fail(PendingCommit commit, Exception error)
    {
        TryDelete(_layout.MetaFile(commit.Id));
        TryDelete(_layout.CurFile(commit.Id));
        TryDelete(_layout.TmpMeta(commit.Name));
        TryDelete(_layout.TmpData(commit.Name));
        MaildirLog.CommitFailed(_logger, commit.Name, error.Message);
        commit.Done.TrySetException(new IOException(
            $"Cannot commit message {commit.Id} to the store {_layout.Root}: {error.Message}", error));
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: recovery removes whatever is left over.
        }
    }
}
