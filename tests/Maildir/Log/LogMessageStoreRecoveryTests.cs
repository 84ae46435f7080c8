using System.Text;
using Failmail.Maildir;
using Failmail.Maildir.Log;
using static Failmail.Tests.Maildir.Log.LogStoreKit;
using static Failmail.Tests.Maildir.StoreTestKit;

namespace Failmail.Tests.Maildir.Log;

// Opening the log after a crash: a torn tail is cut off, damage inside a sealed segment keeps
// the file and what precedes it, and a record cut short is never read as a message.
public class LogMessageStoreRecoveryTests
{
    [Fact]
    public async Task RecoveryCutsATornTailOffACrashedWritersSegmentAndKeepsTheRest()
    {
        using var dir = new TempDirectory();
        using (var store = Open(dir.Path))
        {
            await CommitAsync(store, "one", EnvelopeAt(T0));
            await CommitAsync(store, "two", EnvelopeAt(T0.AddSeconds(1)));
        }
        // What kill -9 in the middle of an append leaves: the segment still .open, and half
        // a record after the last synced one.
        var sealedPath = Directory.GetFiles(dir.Combine("log"), "*.seg").Single();
        var openPath = Path.ChangeExtension(sealedPath, ".open");
        File.Move(sealedPath, openPath);
        var good = new FileInfo(openPath).Length;
        var header = new byte[LogRecord.HeaderSize];
        LogRecord.WriteHeader(header, 10, 0, 5000, 0);
        using (var file = new FileStream(openPath, FileMode.Append))
        {
            file.Write(header);
            file.Write(new byte[100]);
        }

        using var reopened = Open(dir.Path);
        Assert.Equal(["one", "two"], reopened.LoadPending().Select(m => ReadAll(reopened, m.Id)));
        Assert.Equal(good, new FileInfo(sealedPath).Length);
        Assert.False(File.Exists(openPath));
        // The new writer starts its own segment; the recovered one is sealed.
        await CommitAsync(reopened, "three", EnvelopeAt(T0.AddSeconds(2)));
        Assert.Equal(3, reopened.LoadPending().Count);
        Assert.Single(LogFiles(dir, "*.open"));
    }

    [Fact]
    public async Task AFullLengthButUnsyncedLastRecordIsTreatedAsTornToo()
    {
        using var dir = new TempDirectory();
        using (var store = Open(dir.Path))
        {
            await CommitAsync(store, "kept", EnvelopeAt(T0));
            await CommitAsync(store, "torn", EnvelopeAt(T0.AddSeconds(1)));
        }
        var sealedPath = Directory.GetFiles(dir.Combine("log"), "*.seg").Single();
        var openPath = Path.ChangeExtension(sealedPath, ".open");
        File.Move(sealedPath, openPath);
        // The size reached the disk but the last bytes did not (they read as zeros).
        var bytes = File.ReadAllBytes(openPath);
        bytes[^1] = 0;
        bytes[^2] = 0;
        File.WriteAllBytes(openPath, bytes);

        using var reopened = Open(dir.Path);
        Assert.Equal(["kept"], reopened.LoadPending().Select(m => ReadAll(reopened, m.Id)));
    }

    [Fact]
    public async Task DamageInsideASealedSegmentKeepsTheFileAndLoadsWhatPrecedesIt()
    {
        using var dir = new TempDirectory();
        ReceivedMessage first;
        using (var store = Open(dir.Path))
        {
            first = await CommitAsync(store, "first", EnvelopeAt(T0));
            await CommitAsync(store, "second", EnvelopeAt(T0.AddSeconds(1)));
            await CommitAsync(store, "third", EnvelopeAt(T0.AddSeconds(2)));
        }
        var sealedPath = Directory.GetFiles(dir.Combine("log"), "*.seg").Single();
        var bytes = File.ReadAllBytes(sealedPath);
        LogLayout.TryParseId(first.Id, out _, out var offset);
        // Flip a byte of the second record's body (after the first record).
        var secondStart = Encoding.ASCII.GetString(bytes).IndexOf("second", StringComparison.Ordinal);
        Assert.True(secondStart > offset);
        bytes[secondStart] ^= 0x20;
        File.WriteAllBytes(sealedPath, bytes);

        using var reopened = Open(dir.Path);
        var loaded = Assert.Single(reopened.LoadPending());
        Assert.Equal("first", ReadAll(reopened, loaded.Id));
        reopened.Remove([loaded.Id]);
        Assert.True(File.Exists(sealedPath));
    }

    [Theory]
    [InlineData(1_000)] // the whole record in OpenRead's first read
    [InlineData(20_000)] // its body continued by a second read
    [InlineData(0)] // an empty body: the file ends inside the envelope
    public async Task OpenReadRefusesARecordCutShort(int size)
    {
        using var dir = new TempDirectory();
        var body = new string('x', size);
        string id;
        using (var store = Open(dir.Path))
        {
            id = (await CommitAsync(store, body, EnvelopeAt(T0))).Id;
            Assert.Equal(body, ReadAll(store, id));
        }
        var segment = Directory.GetFiles(dir.Combine("log"), "*.seg").Single();
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(file.Length - 10);
        }

        // A reader that does not recover (a --sender process) sees the file as it is.
        using var reader = Open(dir.Path, recover: false);
        Assert.Throws<FileNotFoundException>(() => reader.OpenRead(id));
    }
}
