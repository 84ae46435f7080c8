using Microsoft.Extensions.Logging;

namespace Failmail.Maildir;

// Group commit for MaildirMessageStore: commits that wait are published together, and each
// directory is synced once per group, so concurrent writers (the digests of one hand-off
// wave into the outgoing queue) share the directory fsyncs instead of queueing behind each
// other's. With CommitSync.PerFile the file fsyncs happen before a commit is queued, in
// parallel on the writers' threads; with CommitSync.FileSystem the cur/ sync is one
// syncfs(2) that also covers the files.
//
// Publication order, which makes ".meta/<id> exists" equal to "committed":
//   stage 1, per group:  rename tmp/<name> -> cur/<id> for all; fsync cur/ (or syncfs)
//   stage 2, per group:  rename tmp/<name>.meta -> .meta/<id> for all; fsync .meta/;
//                        complete all (only now is the digest handed off)
// A crash before stage 2's fsync can leave cur/ files without meta (never acknowledged:
// recovery deletes them) but never a meta whose message bytes are not durable.
//
// Each stage is a loop on a thread of its own (the writers block pool threads in fsync,
// and the loops that release them must not wait for the pool to grow). They form a
// pipeline: while stage 2 syncs .meta/ for one group, stage 1 already syncs cur/ for the
// next, and stage 2 merges whatever groups stage 1 finished meanwhile into one sync.
internal sealed class GroupCommitter
{
    private readonly MaildirLayout _layout;
    private readonly CommitSync _sync;
    private readonly int _rootFd = -1;
    private readonly ILogger _logger;
    private readonly StoreCounters _counters;
    private readonly GroupQueue<PendingCommit> _queue = new();
    // Stage 1's durable groups; stage 2 merges whatever is waiting into one sync.
    private readonly GroupQueue<List<PendingCommit>> _dataDurable = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // 1 once the stage threads run or can no longer be needed. They start with the first
    // commit: the outgoing queue and the incoming store's maildir part may see none for
    // days, and starting two threads per store was a third of start-up's CPU samples (the
    // starting thread yields until each new one runs).
    private int _started;

    public GroupCommitter(MaildirLayout layout, ILogger logger, StoreCounters counters, CommitSync sync = CommitSync.PerFile)
    {
        _layout = layout;
        _sync = sync;
        _logger = logger;
        _counters = counters;
        if (sync == CommitSync.FileSystem)
        {
            _rootFd = FileSync.OpenDirectory(layout.Root);
        }
    }

    public CommitSync Sync => _sync;

    public Task<ReceivedMessage> Enqueue(PendingCommit commit)
    {
        if (Volatile.Read(ref _started) == 0 && Interlocked.Exchange(ref _started, 1) == 0)
        {
            new Thread(RunDataStage) { IsBackground = true, Name = "maildir-commit-cur" }.Start();
            new Thread(RunMetaStage) { IsBackground = true, Name = "maildir-commit-meta" }.Start();
        }
        if (!_queue.TryAdd(commit))
        {
            // An IOException like any other store failure, so SMTP answers 451 during shutdown.
            throw new IOException($"The message store {_layout.Root} is closed");
        }
        return commit.Done.Task;
    }

    // Stops taking commits; the ones already queued still complete.
    public Task CompleteAsync()
    {
        _queue.Complete();
        // Never started: no commit was taken, and none can be now (the queue refuses it).
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _dataDurable.Complete();
            if (_rootFd >= 0)
            {
                FileSync.CloseDirectory(_rootFd);
            }
            _stopped.TrySetResult();
        }
        return _stopped.Task;
    }

    // Synchronous, both stages in a row, so tests can hand it a whole group.
    internal void Commit(IReadOnlyList<PendingCommit> group) => PublishMeta(PublishData(group));

    private void RunDataStage()
    {
        var group = new List<PendingCommit>();
        try
        {
            while (_queue.TryTakeGroup(out var taken))
            {
                group = taken;
                var durable = PublishData(group);
                if (durable.Count > 0)
                {
                    _dataDurable.TryAdd(durable);
                }
            }
            _dataDurable.Complete();
        }
        catch (Exception e)
        {
            // Each step handles I/O errors per message; anything else is a bug. Fail what
            // is waiting rather than leaving its writers hanging forever.
            MaildirEvents.CommitterCrashed(_logger, e);
            _queue.Complete();
            FailAll(group, e);
            FailAll(_queue.TakeRest(), e);
            _dataDurable.Complete();
        }
    }

    private void RunMetaStage()
    {
        var group = new List<PendingCommit>();
        try
        {
            while (_dataDurable.TryTakeGroup(out var durables))
            {
                group = [.. durables.SelectMany(durable => durable)];
                PublishMeta(group);
            }
        }
        catch (Exception e)
        {
            MaildirEvents.CommitterCrashed(_logger, e);
            _queue.Complete();
            FailAll(group, e);
            foreach (var durable in _dataDurable.TakeRest())
            {
                FailAll(durable, e);
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

    private static void FailAll(List<PendingCommit> commits, Exception e)
    {
        foreach (var commit in commits)
        {
            commit.Done.TrySetException(e);
        }
    }

    // Stage 1: the message bytes into cur/, durable. Returns the commits that got there.
    private List<PendingCommit> PublishData(IReadOnlyList<PendingCommit> group)
    {
        var moved = new List<PendingCommit>(group.Count);
        foreach (var commit in group)
        {
            if (Try(commit, () => File.Move(_layout.TmpData(commit.Name), _layout.CurFile(commit.Id), overwrite: true)))
            {
                moved.Add(commit);
            }
        }
        if (moved.Count > 0 && !SyncOrFail(_layout.Cur, moved, _counters.DataSynced, wholeFileSystem: _sync == CommitSync.FileSystem))
        {
            moved.Clear();
        }
        return moved;
    }

    // Stage 2: the envelopes into .meta/, durable; this is the commit point.
    private void PublishMeta(List<PendingCommit> durable)
    {
        var published = new List<PendingCommit>(durable.Count);
        foreach (var commit in durable)
        {
            if (Try(commit, () => File.Move(_layout.TmpMeta(commit.Name), _layout.MetaFile(commit.Id), overwrite: true)))
            {
                published.Add(commit);
            }
        }
        if (published.Count == 0 || !SyncOrFail(_layout.Meta, published, _counters.MetaSynced))
        {
            return;
        }

        _counters.GroupCommitted(published.Count);
        MaildirEvents.GroupCommitted(_logger, published.Count);
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

    private bool SyncOrFail(string directory, List<PendingCommit> commits, Action synced, bool wholeFileSystem = false)
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
            synced();
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
        MaildirEvents.CommitFailed(_logger, commit.Name, error.Message);
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
