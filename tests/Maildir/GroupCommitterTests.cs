using Failmail.Maildir;
using Microsoft.Extensions.Logging.Abstractions;

namespace Failmail.Tests.Maildir;

public class GroupCommitterTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static PendingCommit Stage(MaildirLayout layout, string name, bool withData = true)
    {
        if (withData)
        {
            File.WriteAllText(layout.TmpData(name), "bytes of " + name);
        }
        File.WriteAllText(layout.TmpMeta(name), """{"EnvelopeFrom":"a@b","EnvelopeTo":["c@d"]}""");
        var envelope = new Envelope("a@b", ["c@d"], DateTimeOffset.UnixEpoch, "");
        return new PendingCommit(name, new ReceivedMessage(name + ":2,S", envelope, 10));
    }

    private static MaildirLayout CreateLayout(TempDirectory dir)
    {
        var layout = new MaildirLayout(dir.Path);
        layout.Create();
        return layout;
    }

    [Fact]
    public async Task AGroupOfTenSyncsEachDirectoryOnce()
    {
        using var dir = new TempDirectory();
        var layout = CreateLayout(dir);
        var counters = new StoreCounters();
        var committer = new GroupCommitter(layout, NullLogger.Instance, counters, CommitSync.FileSystem);
        var group = Enumerable.Range(1, 10).Select(i => Stage(layout, $"1.1_{i}.h")).ToList();

        committer.Commit(group);

        var done = await Task.WhenAll(group.Select(c => c.Done.Task)).WaitAsync(Timeout);
        Assert.Equal(group.Select(c => c.Id), done.Select(m => m.Id));
        Assert.Equal(1, counters.DataSyncs);
        Assert.Equal(1, counters.MetaSyncs);
        Assert.Equal(1, counters.Groups);
        Assert.Equal(10, Directory.GetFiles(layout.Cur).Length);
        Assert.Equal(10, Directory.GetFiles(layout.Meta).Length);
        Assert.Empty(Directory.GetFiles(layout.Tmp));
        await committer.CompleteAsync().WaitAsync(Timeout);
    }

    [Fact]
    public async Task OneBrokenCommitFailsAloneAndLeavesNoMeta()
    {
        using var dir = new TempDirectory();
        var layout = CreateLayout(dir);
        var committer = new GroupCommitter(layout, NullLogger.Instance, new StoreCounters());
        var good = Stage(layout, "1.1_1.h");
        var broken = Stage(layout, "1.1_2.h", withData: false);

        committer.Commit([good, broken]);

        Assert.Equal(good.Id, (await good.Done.Task.WaitAsync(Timeout)).Id);
        await Assert.ThrowsAnyAsync<IOException>(() => broken.Done.Task.WaitAsync(Timeout));
        Assert.Equal([good.Id], Directory.GetFiles(layout.Meta).Select(Path.GetFileName));
        Assert.Equal([good.Id], Directory.GetFiles(layout.Cur).Select(Path.GetFileName));
        Assert.Empty(Directory.GetFiles(layout.Tmp));
        await committer.CompleteAsync().WaitAsync(Timeout);
    }

    [Fact]
    public async Task QueuedCommitsCompleteBeforeTheCommitterStops()
    {
        using var dir = new TempDirectory();
        var layout = CreateLayout(dir);
        var committer = new GroupCommitter(layout, NullLogger.Instance, new StoreCounters());
        var waits = Enumerable.Range(1, 5).Select(i => committer.Enqueue(Stage(layout, $"1.1_{i}.h"))).ToList();

        await committer.CompleteAsync().WaitAsync(Timeout);

        Assert.All(waits, w => Assert.True(w.IsCompletedSuccessfully));
        Assert.Throws<IOException>(() => { _ = committer.Enqueue(Stage(layout, "1.1_9.h")); });
    }

    [Fact]
    public async Task ACommitterThatNeverCommittedStopsAtOnceAndRefusesLateCommits()
    {
        using var dir = new TempDirectory();
        var layout = CreateLayout(dir);
        var committer = new GroupCommitter(layout, NullLogger.Instance, new StoreCounters(), CommitSync.FileSystem);

        await committer.CompleteAsync().WaitAsync(Timeout);
        await committer.CompleteAsync().WaitAsync(Timeout);

        Assert.Throws<IOException>(() => { _ = committer.Enqueue(Stage(layout, "1.1_1.h")); });
        Assert.Empty(Directory.GetFiles(layout.Meta));
    }
}
