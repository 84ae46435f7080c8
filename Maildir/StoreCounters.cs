namespace Failmail.Maildir;

// What a store has synced, for the benchmark and for tests of group commit.
internal sealed class StoreCounters
{
    private long _fileSyncs;
    private long _directorySyncs;
    private long _groups;
    private long _commits;

    public long FileSyncs => Interlocked.Read(ref _fileSyncs);
    public long DirectorySyncs => Interlocked.Read(ref _directorySyncs);
    public long Groups => Interlocked.Read(ref _groups);
    public long Commits => Interlocked.Read(ref _commits);

    public void FileSynced() => Interlocked.Increment(ref _fileSyncs);
    public void DirectorySynced() => Interlocked.Increment(ref _directorySyncs);
    public void GroupCommitted(int commits)
    {
        Interlocked.Increment(ref _groups);
        Interlocked.Add(ref _commits, commits);
    }
}
