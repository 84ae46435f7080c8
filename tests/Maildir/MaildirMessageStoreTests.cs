using System.Text;
using Failmail.Maildir;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

using static Failmail.Tests.Maildir.StoreTestKit;

namespace Failmail.Tests.Maildir;

public class MaildirMessageStoreTests
{
    private static MaildirMessageStore Open(string root) =>
        new(root, NullLoggerFactory.Instance, new FakeTimeProvider(T0));

    [Fact]
    public async Task CommittedMessageIsLoadedWithItsEnvelopeByANewStoreInstance()
    {
        using var dir = new TempDirectory();
        var root = dir.Combine("incoming");
        ReceivedMessage committed;
        using (var store = Open(root))
        {
            committed = await CommitAsync(store, RoundTripBody, RoundTripEnvelope());
        }

        using var reopened = Open(root);
        var loaded = Assert.Single(reopened.LoadPending());
        Assert.Equal(committed.Id, loaded.Id);
        Assert.EndsWith(":2,S", loaded.Id, StringComparison.Ordinal);
        AssertRoundTripped(reopened, loaded);

        // failmail's layout: bytes in cur/, envelope under the same name in .meta/, mtime = received.
        Assert.True(File.Exists(Path.Combine(root, "cur", loaded.Id)));
        var meta = Path.Combine(root, ".meta", loaded.Id);
        Assert.StartsWith("{\"EnvelopeFrom\":\"\",\"EnvelopeTo\":[\"ops@example.com\",\"dev@example.com\"],\"RedirectedTo\":[",
            File.ReadAllText(meta), StringComparison.Ordinal);
        Assert.Equal(T0.AddTicks(1234567).UtcDateTime, File.GetLastWriteTimeUtc(meta));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(root, "tmp")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(root, "new")));
    }

    [Fact]
    public async Task PerFileSyncModeCommitsConcurrentDraftsThatSurviveRestart()
    {
        using var dir = new TempDirectory();
        using (var store = new MaildirMessageStore(dir.Path, NullLoggerFactory.Instance, new FakeTimeProvider(T0), CommitSync.PerFile))
        {
            await Task.WhenAll(Enumerable.Range(0, 10).Select(i => CommitAsync(store, $"m{i}", EnvelopeAt(T0.AddSeconds(i)))))
                .WaitAsync(Patience);
            Assert.Equal(20, store.Counters.FileSyncs);
            Assert.Equal(store.Counters.Groups, store.Counters.MetaSyncs);
        }
        using var reopened = Open(dir.Path);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"m{i}"), reopened.LoadPending().Select(m => ReadAll(reopened, m.Id)));
    }

    [Fact]
    public async Task RemovedMessagesStayRemovedAfterRestart()
    {
        using var dir = new TempDirectory();
        using (var store = Open(dir.Path))
        {
            var first = await CommitAsync(store, "one", EnvelopeAt(T0));
            var second = await CommitAsync(store, "two", EnvelopeAt(T0.AddSeconds(1)));
            store.Remove([first.Id, "never-existed:2,S", "../escape"]);
            Assert.Equal([second.Id], store.LoadPending().Select(m => m.Id));
            Assert.False(File.Exists(dir.Combine("cur", first.Id)));
            Assert.False(File.Exists(dir.Combine(".meta", first.Id)));
        }
        using var reopened = Open(dir.Path);
        Assert.Equal("two", ReadAll(reopened, Assert.Single(reopened.LoadPending()).Id));
    }

    [Fact]
    public async Task FirstLoadPendingAfterRestartReflectsRemovalsAndCommitsSinceOpening()
    {
        using var dir = new TempDirectory();
        string first;
        using (var store = Open(dir.Path))
        {
            first = (await CommitAsync(store, "one", EnvelopeAt(T0))).Id;
        }
        using (var reopened = Open(dir.Path))
        {
            reopened.Remove([first]);
            Assert.Empty(reopened.LoadPending());
        }
        using var third = Open(dir.Path);
        var late = await CommitAsync(third, "late", EnvelopeAt(T0));
        Assert.Equal([late.Id], third.LoadPending().Select(m => m.Id));
    }

    [Fact]
    public async Task DiscardedDraftLeavesNothingBehind()
    {
        using var dir = new TempDirectory();
        using var store = Open(dir.Path);
        await using (var draft = store.CreateDraft())
        {
            draft.Write("Subject: half\r\n"u8);
            Assert.Equal(15, draft.Length);
            Assert.Single(Directory.GetFiles(dir.Combine("tmp")));
        }
        Assert.Empty(Directory.GetFiles(dir.Combine("tmp")));
        Assert.Empty(Directory.GetFiles(dir.Combine("cur")));
        Assert.Empty(Directory.GetFiles(dir.Combine(".meta")));
        Assert.Empty(store.LoadPending());
    }

    [Fact]
    public async Task LoadPendingOrdersByReceivedTimeThenId()
    {
        using var dir = new TempDirectory();
        using var store = Open(dir.Path);
        var late = await CommitAsync(store, "late", EnvelopeAt(T0.AddMinutes(5)));
        var a = await CommitAsync(store, "a", EnvelopeAt(T0));
        var b = await CommitAsync(store, "b", EnvelopeAt(T0.ToOffset(TimeSpan.Zero)));
        var expectedSame = new[] { a.Id, b.Id }.Order(StringComparer.Ordinal);
        Assert.Equal([.. expectedSame, late.Id], store.LoadPending().Select(m => m.Id));
    }

    [Fact]
    public async Task FiftyConcurrentCommitsAllLandWithOneMetaSyncPerGroup()
    {
        using var dir = new TempDirectory();
        ReceivedMessage[] committed;
        using (var store = Open(dir.Path))
        {
            using var start = new ManualResetEventSlim();
            var tasks = Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
            {
                start.Wait(Patience);
                return await CommitAsync(store, $"message {i}", EnvelopeAt(T0.AddSeconds(i)));
            })).ToArray();
            start.Set();
            committed = await Task.WhenAll(tasks).WaitAsync(Patience);

            Assert.Equal(50, committed.Select(m => m.Id).Distinct().Count());
            Assert.Equal(50, store.Counters.Commits);
            Assert.Equal(0, store.Counters.FileSyncs); // syncfs covers the files
            // One .meta/ sync per published group, at most one cur/ sync per commit.
            Assert.Equal(store.Counters.Groups, store.Counters.MetaSyncs);
            Assert.InRange(store.Counters.DataSyncs, store.Counters.Groups, 50);
        }
        using var reopened = Open(dir.Path);
        var loaded = reopened.LoadPending();
        Assert.Equal(committed.OrderBy(m => m.Envelope.Received).Select(m => m.Id), loaded.Select(m => m.Id));
        Assert.Equal("message 49", ReadAll(reopened, loaded[49].Id));
    }

    [Fact]
    public async Task RecoveryDeletesTmpLeftoversAndUnacknowledgedCurFiles()
    {
        using var dir = new TempDirectory();
        string kept;
        using (var store = Open(dir.Path))
        {
            kept = (await CommitAsync(store, "kept", EnvelopeAt(T0))).Id;
        }
        File.WriteAllText(dir.Combine("tmp", "123.4_5R0.host"), "half a message");
        File.WriteAllText(dir.Combine("tmp", "123.4_5R0.host.meta"), "{\"Envel");
        File.WriteAllText(dir.Combine("cur", "123.4_6R0.host:2,S"), "renamed but never acknowledged");

        using var reopened = Open(dir.Path);
        Assert.Equal([kept], reopened.LoadPending().Select(m => m.Id));
        Assert.Empty(Directory.GetFiles(dir.Combine("tmp")));
        Assert.Equal([dir.Combine("cur", kept)], Directory.GetFiles(dir.Combine("cur")));
        Assert.False(Directory.Exists(dir.Combine("quarantine")));
    }

    [Fact]
    public async Task RecoveryQuarantinesPoisonEntriesAndLoadsTheRest()
    {
        using var dir = new TempDirectory();
        string good;
        using (var store = Open(dir.Path))
        {
            good = (await CommitAsync(store, "good", EnvelopeAt(T0))).Id;
        }
        File.WriteAllText(dir.Combine(".meta", "1.1_1.h:2,S"), """{"EnvelopeFrom":"a@b","EnvelopeTo":["c@d"]}""");
        File.WriteAllText(dir.Combine(".meta", "1.1_2.h:2,S"), """{"EnvelopeFrom":"a@""");
        File.WriteAllText(dir.Combine("cur", "1.1_2.h:2,S"), "bytes of the corrupt one");
        File.WriteAllText(dir.Combine(".meta", "1.1_3.h:2,S"), """{"EnvelopeFrom":"a@b","EnvelopeTo":null}""");
        File.WriteAllText(dir.Combine("cur", "1.1_3.h:2,S"), "nobody to send to");
        File.WriteAllText(dir.Combine(".meta", ".1.1_4.h.swp"), "editor swap file");

        using var reopened = Open(dir.Path);
        Assert.Equal([good], reopened.LoadPending().Select(m => m.Id));
        Assert.Equal([good], Directory.GetFiles(dir.Combine(".meta")).Select(Path.GetFileName));
        Assert.Equal([good], Directory.GetFiles(dir.Combine("cur")).Select(Path.GetFileName));
        Assert.Equal(
            [".1.1_4.h.swp.meta", "1.1_1.h:2,S.meta", "1.1_2.h:2,S", "1.1_2.h:2,S.meta", "1.1_3.h:2,S", "1.1_3.h:2,S.meta"],
            Directory.GetFiles(dir.Combine("quarantine")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("bytes of the corrupt one", File.ReadAllText(dir.Combine("quarantine", "1.1_2.h:2,S")));
    }

    [Fact]
    public async Task EntryThatTurnsBadWhileRunningIsQuarantinedByLoadPending()
    {
        using var dir = new TempDirectory();
        using var store = Open(dir.Path);
        var bad = await CommitAsync(store, "bad", EnvelopeAt(T0));
        var good = await CommitAsync(store, "good", EnvelopeAt(T0.AddSeconds(1)));
        File.WriteAllText(dir.Combine(".meta", bad.Id), "not json");

        Assert.Equal([good.Id], store.LoadPending().Select(m => m.Id));
        Assert.True(File.Exists(dir.Combine("quarantine", bad.Id + ".meta")));
        Assert.Equal([good.Id], store.LoadPending().Select(m => m.Id));
    }

    [Fact]
    public void FailmailStoreIsReadWithMtimeAsReceivedTime()
    {
        using var dir = new TempDirectory();
        foreach (var sub in new[] { "cur", "new", "tmp", ".meta" })
        {
            Directory.CreateDirectory(dir.Combine(sub));
        }
        var mtime = new DateTime(2023, 11, 14, 22, 13, 20, DateTimeKind.Utc).AddTicks(1234567);
        const string First = "1700000000.4242_1.alerts:2,S";
        const string Second = "1700000001.4242_2.alerts:2,S";
        File.WriteAllText(dir.Combine("cur", First), "Subject: disk full\r\n\r\n/var\r\n");
        File.WriteAllText(dir.Combine(".meta", First),
            """{"EnvelopeFrom":"app@example.com","EnvelopeTo":["ops@example.com"],"RedirectedTo":["ops@example.com"]}""");
        File.SetLastWriteTimeUtc(dir.Combine(".meta", First), mtime);
        // The null sender as failmail's Go encoder wrote it; RedirectedTo nil -> EnvelopeTo.
        File.WriteAllText(dir.Combine("cur", Second), "Subject: bounce\r\n\r\n");
        File.WriteAllText(dir.Combine(".meta", Second),
            """{"EnvelopeFrom":"\u003c\u003e","EnvelopeTo":["a@example.com","b@example.com"],"RedirectedTo":null}""");
        File.SetLastWriteTimeUtc(dir.Combine(".meta", Second), mtime.AddSeconds(1));

        using var store = Open(dir.Path);
        var loaded = store.LoadPending();
        Assert.Equal([First, Second], loaded.Select(m => m.Id));
        Assert.Equal("app@example.com", loaded[0].Envelope.From);
        Assert.Equal("", loaded[0].Envelope.ClientAddress);
        Assert.Equal(["ops@example.com"], loaded[0].Envelope.Recipients);
        Assert.Equal(new DateTimeOffset(mtime), loaded[0].Envelope.Received);
        Assert.Equal(28, loaded[0].Size);
        Assert.Equal("", loaded[1].Envelope.From);
        Assert.Equal(["a@example.com", "b@example.com"], loaded[1].Envelope.Recipients);
        Assert.Equal(new DateTimeOffset(mtime.AddSeconds(1)), loaded[1].Envelope.Received);
    }

    [Fact]
    public void OpenReadRefusesUnknownAndEscapingIds()
    {
        using var dir = new TempDirectory();
        using var store = Open(dir.Path);
        Assert.Throws<FileNotFoundException>(() => store.OpenRead("1.1_1.h:2,S"));
        Assert.Throws<ArgumentException>(() => store.OpenRead("../../etc/passwd"));
    }

    [Fact]
    public void StoreUnderARegularFileFailsWithIOExceptionNamingThePath()
    {
        // Tests run as root, so permissions cannot make a directory unwritable; a parent
        // that is a regular file fails for root too (ENOTDIR).
        using var dir = new TempDirectory();
        File.WriteAllText(dir.Combine("file"), "");
        var root = dir.Combine("file", "incoming");
        var e = Assert.ThrowsAny<IOException>(() => Open(root));
        Assert.Contains(dir.Combine("file"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateDraftFailsWithIOExceptionWhenTmpCannotBeWritten()
    {
        using var dir = new TempDirectory();
        using var store = Open(dir.Path);
        Directory.Delete(dir.Combine("tmp"));
        File.WriteAllText(dir.Combine("tmp"), "");
        var e = Assert.ThrowsAny<IOException>(store.CreateDraft);
        Assert.Contains(dir.Combine("tmp"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommitFailsWithIOExceptionAndLeavesNothingWhenCurCannotBeWritten()
    {
        using var dir = new TempDirectory();
        using var store = Open(dir.Path);
        var ok = await CommitAsync(store, "before", EnvelopeAt(T0));
        var cur = dir.Combine("cur");
        var saved = dir.Combine("cur-saved");
        Directory.Move(cur, saved);
        File.WriteAllText(cur, "");
        await using (var draft = store.CreateDraft())
        {
            draft.Write("Subject: x\r\n\r\n"u8);
            var e = await Assert.ThrowsAnyAsync<IOException>(
                () => draft.CommitAsync(EnvelopeAt(T0), CancellationToken.None).AsTask().WaitAsync(Patience));
            Assert.Contains(dir.Path, e.Message, StringComparison.Ordinal);
        }
        File.Delete(cur);
        Directory.Move(saved, cur);

        Assert.Empty(Directory.GetFiles(dir.Combine("tmp")));
        Assert.Equal([ok.Id], store.LoadPending().Select(m => m.Id));
        // The store keeps working once the directory is back.
        var after = await CommitAsync(store, "after", EnvelopeAt(T0.AddSeconds(1)));
        Assert.Equal([ok.Id, after.Id], store.LoadPending().Select(m => m.Id));
    }
}
