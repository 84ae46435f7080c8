using System.Text;
using Failmail.Maildir;
using Failmail.Maildir.Log;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Failmail.Tests.Maildir.Log.LogStoreKit;
using static Failmail.Tests.Maildir.StoreTestKit;

namespace Failmail.Tests.Maildir.Log;

public class LogMessageStoreTests
{
    [Fact]
    public async Task CommittedMessageIsLoadedWithItsEnvelopeByANewStoreInstance()
    {
        using var dir = new TempDirectory();
        ReceivedMessage committed;
        using (var store = Open(dir.Path))
        {
            committed = await CommitAsync(store, RoundTripBody, RoundTripEnvelope());
            Assert.Equal("Subject: x\r\n\r\nbody\r\n", ReadAll(store, committed.Id));
            Assert.Single(LogFiles(dir, "*.open"));
        }
        // A clean stop seals the segment.
        Assert.Empty(LogFiles(dir, "*.open"));
        Assert.Single(LogFiles(dir, "*.seg"));

        using var reopened = Open(dir.Path);
        var loaded = Assert.Single(reopened.LoadPending());
        Assert.Equal(committed.Id, loaded.Id);
        Assert.Contains("#", loaded.Id, StringComparison.Ordinal);
        AssertRoundTripped(reopened, loaded);
        // Nothing in the maildir part: no file per message.
        Assert.Empty(Directory.GetFiles(dir.Combine("cur")));
        Assert.Empty(Directory.GetFiles(dir.Combine(".meta")));
    }

    [Fact]
    public async Task ConcurrentCommitsAreAllDurableAndInOneSegment()
    {
        using var dir = new TempDirectory();
        using (var store = Open(dir.Path))
        {
            var committed = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => CommitAsync(store, $"m{i}", EnvelopeAt(T0.AddSeconds(i)))))
                .WaitAsync(Patience);
            Assert.Equal(50, committed.Select(m => m.Id).Distinct().Count());
            Assert.Equal(50, store.Counters.Commits);
            Assert.Equal(store.Counters.Groups, store.Counters.DataSyncs);
        }
        using var reopened = Open(dir.Path);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"m{i}"), reopened.LoadPending().Select(m => ReadAll(reopened, m.Id)));
        Assert.Single(LogFiles(dir, "*.seg"));
    }

    [Fact]
    public async Task RemovedMessagesStayRemovedAfterRestart()
    {
        using var dir = new TempDirectory();
        using (var store = Open(dir.Path))
        {
            var first = await CommitAsync(store, "one", EnvelopeAt(T0));
            var second = await CommitAsync(store, "two", EnvelopeAt(T0.AddSeconds(1)));
            store.Remove([first.Id, "never-existed#10", "never-existed:2,S", "../escape#1"]);
            Assert.Equal([second.Id], store.LoadPending().Select(m => m.Id));
            Assert.Throws<FileNotFoundException>(() => store.OpenRead("never-existed#10"));
        }
        using var reopened = Open(dir.Path);
        Assert.Equal("two", ReadAll(reopened, Assert.Single(reopened.LoadPending()).Id));
    }

    [Fact]
    public async Task AnotherInstanceReadsAndRemovesWhatTheWriterCommits()
    {
        using var dir = new TempDirectory();
        using var receiver = Open(dir.Path, segmentLimit: 200);
        using var sender = Open(dir.Path, recover: false);
        var first = await CommitAsync(receiver, "first", EnvelopeAt(T0));
        Assert.Equal([first.Id], sender.LoadPending().Select(m => m.Id));
        Assert.Equal("first", ReadAll(sender, first.Id));

        // Past the 200-byte limit the receiver seals; the sender's removal then empties and
        // deletes that segment.
        var second = await CommitAsync(receiver, new string('x', 300), EnvelopeAt(T0.AddSeconds(1)));
        Assert.Equal([first.Id, second.Id], sender.LoadPending().Select(m => m.Id));
        sender.Remove([first.Id, second.Id]);
        Assert.Empty(sender.LoadPending());
        Assert.Empty(LogFiles(dir, "*.seg"));
        Assert.Empty(LogFiles(dir, "*.del"));

        var third = await CommitAsync(receiver, "third", EnvelopeAt(T0.AddSeconds(2)));
        Assert.Equal([third.Id], sender.LoadPending().Select(m => m.Id));
    }

    [Fact]
    public async Task AWriterAloneForgetsWhatAnotherProcessRemoved()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(T0);
        using var receiver = new LogMessageStore(dir.Path, NullLoggerFactory.Instance, time, recover: true, LogWriter.DefaultSegmentLimit);
        using var sender = Open(dir.Path, recover: false);
        var first = await CommitAsync(receiver, "first", EnvelopeAt(T0));
        var second = await CommitAsync(receiver, "second", EnvelopeAt(T0));
        Assert.Equal(2, receiver.TrackedMessages);
        sender.LoadPending();
        sender.Remove([first.Id, second.Id]);

        // About once a second the writer reads the other process's tombstones.
        time.Advance(TimeSpan.FromSeconds(2));
        var third = await CommitAsync(receiver, "third", EnvelopeAt(T0));
        Assert.Equal(1, receiver.TrackedMessages);
        Assert.Equal([third.Id], receiver.LoadPending().Select(m => m.Id));
    }

    [Fact]
    public async Task FailmailMaildirMessagesAreLoadedBesideTheLog()
    {
        using var dir = new TempDirectory();
        foreach (var sub in new[] { "cur", "new", "tmp", ".meta" })
        {
            Directory.CreateDirectory(dir.Combine(sub));
        }
        const string Old = "1700000000.4242_1.alerts:2,S";
        File.WriteAllText(dir.Combine("cur", Old), "Subject: disk full\r\n\r\n/var\r\n");
        File.WriteAllText(dir.Combine(".meta", Old),
            """{"EnvelopeFrom":"app@example.com","EnvelopeTo":["ops@example.com"],"RedirectedTo":["ops@example.com"]}""");
        File.SetLastWriteTimeUtc(dir.Combine(".meta", Old), T0.UtcDateTime.AddDays(-1));

        using var store = Open(dir.Path);
        var fresh = await CommitAsync(store, "new", EnvelopeAt(T0));
        Assert.Equal([Old, fresh.Id], store.LoadPending().Select(m => m.Id));
        Assert.Equal("Subject: disk full\r\n\r\n/var\r\n", ReadAll(store, Old));
        store.Remove([Old, fresh.Id]);
        Assert.Empty(store.LoadPending());
        Assert.Empty(Directory.GetFiles(dir.Combine("cur")));
        Assert.Empty(Directory.GetFiles(dir.Combine(".meta")));
    }

    [Fact]
    public async Task LargeMessageSpillsToDiskWhileReceivedAndRoundTrips()
    {
        using var dir = new TempDirectory();
        var body = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 40_000).Select(i => $"line {i}\r\n")));
        Assert.True(body.Length > LogDraft.SpillThreshold);
        using var store = Open(dir.Path);
        ReceivedMessage message;
        await using (var draft = store.CreateDraft())
        {
            for (var i = 0; i < body.Length; i += 1000)
            {
                draft.Write(body.AsSpan(i, Math.Min(1000, body.Length - i)));
            }
            Assert.Single(Directory.GetFiles(dir.Combine("log", "spill")));
            message = await draft.CommitAsync(EnvelopeAt(T0), CancellationToken.None).AsTask().WaitAsync(Patience);
        }
        Assert.Empty(Directory.GetFiles(dir.Combine("log", "spill")));
        Assert.Equal(body.Length, message.Size);
        using var read = new MemoryStream();
        using (var stream = store.OpenRead(message.Id))
        {
            stream.CopyTo(read);
        }
        Assert.Equal(body, read.ToArray());
    }

    [Fact]
    public async Task DiscardedDraftLeavesNothingBehind()
    {
        using var dir = new TempDirectory();
        using var store = Open(dir.Path);
        await using (var draft = store.CreateDraft())
        {
            draft.Write(new byte[LogDraft.SpillThreshold + 1]);
            Assert.Single(Directory.GetFiles(dir.Combine("log", "spill")));
        }
        Assert.Empty(Directory.GetFiles(dir.Combine("log", "spill")));
        Assert.Empty(store.LoadPending());
        Assert.Empty(LogFiles(dir, "*.open"));
    }

    [Fact]
    public void OpenReadRefusesMalformedAndEscapingIds()
    {
        using var dir = new TempDirectory();
        using var store = Open(dir.Path);
        Assert.Throws<ArgumentException>(() => store.OpenRead("../../etc/passwd#0"));
        Assert.Throws<ArgumentException>(() => store.OpenRead("stem#zz"));
        Assert.Throws<FileNotFoundException>(() => store.OpenRead("1700000000.1_1Rab.host#0"));
    }

    [Fact]
    public async Task CommitAfterDisposeFailsWithIOException()
    {
        using var dir = new TempDirectory();
        var store = Open(dir.Path);
        await using var draft = store.CreateDraft();
        draft.Write("x"u8);
        store.Dispose();
        await Assert.ThrowsAnyAsync<IOException>(() => draft.CommitAsync(EnvelopeAt(T0), CancellationToken.None).AsTask());
    }
}
