using Failmail.Maildir;
using Failmail.Maildir.Log;
using static Failmail.Tests.Maildir.Log.LogStoreKit;
using static Failmail.Tests.Maildir.StoreTestKit;

namespace Failmail.Tests.Maildir.Log;

// The writer's segment lifecycle (LogWriter, ActiveSegment): sealing, deleting, recycling,
// and a log directory that goes away and comes back.
public class LogMessageStoreSegmentTests
{
    [Fact]
    public async Task SegmentIsDeletedOnceSealedAndEverythingInItIsRemoved()
    {
        using var dir = new TempDirectory();
        // A limit of one byte seals the segment after every group.
        using var store = Open(dir.Path, segmentLimit: 1);
        var first = await CommitAsync(store, "one", EnvelopeAt(T0));
        var second = await CommitAsync(store, "two", EnvelopeAt(T0));
        Assert.Equal(2, LogFiles(dir, "*.seg").Length);
        // Reading keeps a handle per segment; a deleted segment's must be let go.
        Assert.Equal("one", ReadAll(store, first.Id));
        Assert.Equal("two", ReadAll(store, second.Id));

        store.Remove([first.Id]);
        Assert.Single(LogFiles(dir, "*.seg"));
        Assert.Empty(LogFiles(dir, "*.del"));
        Assert.Equal([second.Id], store.LoadPending().Select(m => m.Id));
        store.Remove([second.Id]);
        Assert.Empty(Directory.GetFiles(dir.Combine("log")));
        Assert.Empty(store.LoadPending());
        Assert.DoesNotContain(Directory.GetFiles("/proc/self/fd").Select(fd => new FileInfo(fd).LinkTarget ?? ""),
            target => target.StartsWith(dir.Combine("log"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task ALargeSegmentWithNothingLiveIsReplacedAtTheNextCommit()
    {
        using var dir = new TempDirectory();
        using var store = Open(dir.Path);
        var big = new string('x', 300_000);
        var messages = new List<ReceivedMessage>();
        for (var i = 0; i < 4; i++)
        {
            messages.Add(await CommitAsync(store, big, EnvelopeAt(T0)));
        }
        var first = Assert.Single(LogFiles(dir, "*.open"));
        store.Remove(messages.Select(m => m.Id));
        await CommitAsync(store, "small", EnvelopeAt(T0));
        var second = Assert.Single(LogFiles(dir, "*.open"));
        Assert.NotEqual(first, second);
        Assert.Empty(LogFiles(dir, "*.seg"));
        Assert.Empty(LogFiles(dir, "*.del"));
    }

    [Fact]
    public async Task CommitFailsWhileTheLogDirectoryIsUnusableAndWorksAgainAfter()
    {
        using var dir = new TempDirectory();
        using var store = Open(dir.Path);
        var before = await CommitAsync(store, "before", EnvelopeAt(T0));
        var log = dir.Combine("log");
        var saved = dir.Combine("log-saved");
        Directory.Move(log, saved);
        File.WriteAllText(log, "in the way");

        Assert.ThrowsAny<IOException>(store.CheckWritable);
        var e = await Assert.ThrowsAnyAsync<IOException>(() => CommitAsync(store, "during", EnvelopeAt(T0)));
        Assert.Contains(log, e.Message, StringComparison.Ordinal);

        File.Delete(log);
        Directory.Move(saved, log);
        store.CheckWritable();
        var after = await CommitAsync(store, "after", EnvelopeAt(T0.AddSeconds(1)));
        Assert.Equal(["before", "after"], store.LoadPending().Select(m => ReadAll(store, m.Id)));
        Assert.Equal([before.Id, after.Id], store.LoadPending().Select(m => m.Id));
    }
}
