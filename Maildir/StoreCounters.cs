namespace Failmail.Maildir;

// What a store has synced, for the benchmark and for tests of group commit.
internal sealed class StoreCounters
{
    private long _fileSyncs;
    private long _dataSyncs;
    private long _metaSyncs;
    private long _removeSyncs;
    private long _groups;
    private long _commits;

    // fsyncs of message and envelope files in tmp/ (CommitSync.PerFile only).
    public long FileSyncs => Interlocked.Read(ref _fileSyncs);
    // Commit stage 1: fsync of cur/, or syncfs with CommitSync.FileSystem.
    public long DataSyncs => Interlocked.Read(ref _dataSyncs);
    // Commit stage 2: fsync of .meta/, one per published group.
    public long MetaSyncs => Interlocked.Read(ref _metaSyncs);
    // Remove: fsync of .meta/, one per call.
    public long RemoveSyncs => Interlocked.Read(ref _removeSyncs);
    public long DirectorySyncs => DataSyncs + MetaSyncs + RemoveSyncs;
    public long Groups => Interlocked.Read(ref _groups);
    public long Commits => Interlocked.Read(ref _commits);

    public void FileSynced() => Interlocked.Increment(ref _fileSyncs);
    public void DataSynced() => Interlocked.Increment(ref _dataSyncs);
    public void MetaSynced() => Interlocked.Increment(ref _metaSyncs);
    public void RemoveSynced() => Interlocked.Increment(ref _removeSyncs);
    public void GroupCommitted(int commits)
    {
        Interlocked.Increment(ref _groups);
        Interlocked.Add(ref _commits, commits);
    }
}
