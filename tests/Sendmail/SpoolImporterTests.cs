using System.Runtime.InteropServices;
using System.Text;
using Failmail.Batching;
using Failmail.Intake;
using Failmail.Maildir;
using Failmail.Rewriting;
using Failmail.Sendmail;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Failmail.Tests.Sendmail;

public sealed class SpoolImporterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("failmail-spool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class ListSink : IMessageSink
    {
        public List<ReceivedMessage> Accepted { get; } = [];
        public bool Fail { get; set; }
        public bool HasCapacity { get; set; } = true;

        public ValueTask AcceptAsync(ReceivedMessage message, CancellationToken cancellationToken)
        {
            if (Fail)
            {
                throw new IOException("sink down");
            }
            Accepted.Add(message);
            return ValueTask.CompletedTask;
        }
    }

    private FailmailOptions Options => new() { SpoolDir = Path.Combine(_dir, "spool"), QualifyDomain = "host1.example.com", MasqueradeDomains = "example.com" };

    private string Spool(SubmittedMessage message) => new MaildirWriter(Options.SpoolDir).Deliver(SpoolFile.Encode(message));

    private SpoolImporter Importer(IMessageStore store, IMessageSink sink, ILoggerFactory? logs = null, FailmailOptions? options = null) =>
        new(options ?? Options, store, sink, AddressRewriter.Create(options ?? Options), logs ?? NullLoggerFactory.Instance, TimeProvider.System);

    private string NewDir => Path.Combine(Options.SpoolDir, "new");

    private string BadDir => Path.Combine(Options.SpoolDir, "bad");

    [Fact]
    public async Task ImportsRewritesHandsOnAndThenDeletes()
    {
        var name = Spool(new SubmittedMessage("root@host1.example.com", ["ops@host1.example.com"], "From: root\r\nSubject: s\r\n\r\nbody\r\n"u8.ToArray()));
        var store = new MemoryMessageStore();
        var sink = new ListSink();
        using var importer = Importer(store, sink);

        Assert.Equal(1, await importer.ImportAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));

        var message = Assert.Single(store.LoadPending());
        Assert.Equal(message, Assert.Single(sink.Accepted));
        Assert.Equal("root@example.com", message.Envelope.From);
        Assert.Equal(["ops@example.com"], message.Envelope.Recipients);
        Assert.Equal("spool", message.Envelope.ClientAddress);
        using var reader = new StreamReader(store.OpenRead(message.Id));
        Assert.Equal("From: root@example.com\r\nSubject: s\r\n\r\nbody\r\n", await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(File.Exists(Path.Combine(Options.SpoolDir, "new", name)));
        Assert.Equal(0, await importer.ImportAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task RewriteSrcAndDestApplyAfterTheAddressRewritingAsOverSmtp()
    {
        var options = Options with { RewriteSrc = @"^failmail\+([^@]*)@example\.com$", RewriteDest = "$1@example.net" };
        Spool(new SubmittedMessage("root@host1.example.com", ["failmail+ops@host1.example.com", "dev@example.com"], "Subject: s\r\n\r\nb\r\n"u8.ToArray()));
        var store = new MemoryMessageStore();
        using var importer = new SpoolImporter(options, store, new ListSink(), AddressRewriter.Create(options), NullLoggerFactory.Instance, TimeProvider.System);

        Assert.Equal(1, await importer.ImportAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));

        // Masqueraded to failmail+ops@example.com first, then rewritten; sorted as over SMTP.
        Assert.Equal(["dev@example.com", "ops@example.net"], Assert.Single(store.LoadPending()).Envelope.Recipients);
    }

    [Fact]
    public async Task AFailedHandOffLeavesTheMessagePendingInTheStoreOnce()
    {
        var name = Spool(new SubmittedMessage("a@example.com", ["b@example.com"], "Subject: s\r\n\r\nb\r\n"u8.ToArray()));
        var store = new MemoryMessageStore();
        using var importer = Importer(store, new ListSink { Fail = true });

        Assert.Equal(1, await importer.ImportAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, await importer.ImportAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));

        // Committed, so the batcher finds it in the store; imported once, not at every poll.
        Assert.Single(store.LoadPending());
        Assert.False(File.Exists(Path.Combine(Options.SpoolDir, "new", name)));
    }

    [Fact]
    public async Task AStoreThatCannotBeWrittenKeepsTheSpoolFile()
    {
        var name = Spool(new SubmittedMessage("a@example.com", ["b@example.com"], "Subject: s\r\n\r\nb\r\n"u8.ToArray()));
        using var importer = Importer(new BrokenStore(), new ListSink());

        await Assert.ThrowsAsync<IOException>(() => importer.ImportAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(File.Exists(Path.Combine(Options.SpoolDir, "new", name)));
    }

    private sealed class BrokenStore : IMessageStore
    {
        public IMessageDraft CreateDraft() => throw new IOException("disk full");
        public IReadOnlyList<ReceivedMessage> LoadPending() => [];
        public Stream OpenRead(string id) => throw new FileNotFoundException(id);
        public void Remove(IEnumerable<string> ids)
        {
        }
    }

    [Fact]
    public async Task AFileWithoutAnEnvelopeIsMovedAsideWithItsReasonNotImported()
    {
        var name = new MaildirWriter(Options.SpoolDir).Deliver("Subject: stray\r\n\r\n"u8);
        var store = new MemoryMessageStore();
        var logs = new ListLoggerFactory();
        using var importer = Importer(store, new ListSink(), logs);

        Assert.Equal(0, await importer.ImportAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Empty(store.LoadPending());
        Assert.Equal("Subject: stray\r\n\r\n", Encoding.UTF8.GetString(await File.ReadAllBytesAsync(Path.Combine(BadDir, name))));
        Assert.Equal("no X-Failmail-Envelope-From line first: not a spooled message\n", await File.ReadAllTextAsync(Path.Combine(BadDir, name + ".reason")));
        var warning = Assert.Single(logs.Lines);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal($"spool entry {name} in {Options.SpoolDir} refused: no X-Failmail-Envelope-From line first: not a spooled message; moved to {BadDir}", warning.Text);
        Assert.Empty(Directory.GetFileSystemEntries(NewDir));
    }

    // The bad entry comes first in new/ (names sort by time), a good message after it: the bad
    // one is moved aside with its reason and one warning, and the good one is still imported.
    private async Task<string> RefusedBeforeAGoodMessageAsync(string badName, Action<string> createBad, FailmailOptions? options = null)
    {
        Spool(new SubmittedMessage("root@host1.example.com", ["ops@example.com"], "Subject: good\r\n\r\nb\r\n"u8.ToArray()));
        var bad = Path.Combine(NewDir, badName);
        createBad(bad);
        var store = new MemoryMessageStore();
        var sink = new ListSink();
        var logs = new ListLoggerFactory();
        using var importer = Importer(store, sink, logs, options);

        Assert.Equal(1, await importer.ImportAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(["ops@example.com"], Assert.Single(sink.Accepted).Envelope.Recipients);
        Assert.Empty(Directory.GetFileSystemEntries(NewDir));
        var warning = Assert.Single(logs.Lines, l => l.Level == LogLevel.Warning);
        Assert.StartsWith($"spool entry {badName} in {Options.SpoolDir} refused: ", warning.Text, StringComparison.Ordinal);
        var reason = await File.ReadAllTextAsync(Path.Combine(BadDir, badName + ".reason"));
        Assert.Contains(reason.TrimEnd('\n'), warning.Text, StringComparison.Ordinal);
        return reason;
    }

    [Fact]
    public async Task AFifoIsMovedAsideUnopenedAndDoesNotBlock()
    {
        var reason = await RefusedBeforeAGoodMessageAsync("0.fifo", path => Assert.Equal(0, MkFifo(path, 0x1b6)));
        Assert.Equal("not a regular file (a FIFO)\n", reason);
        Assert.True(Stat(Path.Combine(BadDir, "0.fifo")).IsFifo);
    }

    [Fact]
    public async Task ASymlinkToDevZeroIsMovedAsTheLinkNeverFollowed()
    {
        var reason = await RefusedBeforeAGoodMessageAsync("0.zero", path => File.CreateSymbolicLink(path, "/dev/zero"));
        Assert.Equal("not a regular file (a symbolic link)\n", reason);
        Assert.Equal("/dev/zero", new FileInfo(Path.Combine(BadDir, "0.zero")).LinkTarget);
    }

    [Fact]
    public async Task ASymlinkToAValidSpoolFileIsNotFollowedEither()
    {
        var elsewhere = Path.Combine(_dir, "elsewhere");
        await File.WriteAllBytesAsync(elsewhere, SpoolFile.Encode(new SubmittedMessage("a@example.com", ["b@example.com"], "Subject: s\r\n\r\n"u8.ToArray())));
        var reason = await RefusedBeforeAGoodMessageAsync("0.link", path => File.CreateSymbolicLink(path, elsewhere));
        Assert.Equal("not a regular file (a symbolic link)\n", reason);
        Assert.True(File.Exists(elsewhere));
    }

    [Fact]
    public async Task ADirectoryIsMovedAside()
    {
        var reason = await RefusedBeforeAGoodMessageAsync("0.dir", path => Directory.CreateDirectory(path));
        Assert.Equal("not a regular file (a directory)\n", reason);
    }

    [Fact]
    public async Task AFileLargerThanTheLimitIsRefusedFromItsSize()
    {
        // 30 MB, sparse: refused by fstat before a byte is read.
        var reason = await RefusedBeforeAGoodMessageAsync("0.huge", path =>
        {
            using var file = new FileStream(path, FileMode.CreateNew);
            file.Write(SpoolFile.Encode(new SubmittedMessage("a@example.com", ["b@example.com"], [])));
            file.SetLength(30_000_000);
        });
        Assert.Equal($"file of 30000000 octets is larger than --max-message-size 10485760 plus the envelope lines (SMTP answers 552)\n", reason);
    }

    [Fact]
    public async Task AMessageOverTheLimitWithinTheEnvelopeAllowanceIsRefused()
    {
        var options = Options with { MaxMessageSize = 1000 };
        var reason = await RefusedBeforeAGoodMessageAsync("0.big", path =>
            File.WriteAllBytes(path, SpoolFile.Encode(new SubmittedMessage("a@example.com", ["b@example.com"], new byte[1001]))), options);
        Assert.Equal("message of 1001 octets is larger than --max-message-size 1000 (SMTP answers 552)\n", reason);
    }

    [Fact]
    public async Task AMessageOfExactlyTheLimitStreamsInWhole()
    {
        var options = Options with { MaxMessageSize = 200_000 };
        var body = new byte[200_000];
        new Random(7).NextBytes(body);
        var headers = "Subject: big\r\n\r\n"u8.ToArray();
        var bytes = headers.Concat(body.Skip(headers.Length)).ToArray();
        Spool(new SubmittedMessage("a@example.com", ["b@example.com"], bytes));
        var store = new MemoryMessageStore();
        using var importer = Importer(store, new ListSink(), options: options);

        Assert.Equal(1, await importer.ImportAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));

        using var read = store.OpenRead(Assert.Single(store.LoadPending()).Id);
        using var copy = new MemoryStream();
        await read.CopyToAsync(copy).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(bytes, copy.ToArray());
    }

    [Theory]
    [InlineData("X-Failmail-Envelope-To: <a@y.test>, <b@y.test>", "envelope line 2: X-Failmail-Envelope-To holds more than one path (one address per line)")]
    [InlineData("X-Failmail-Envelope-To: <a b@y.test>", "envelope line 2: X-Failmail-Envelope-To is not a path SMTP accepts")]
    [InlineData("X-Failmail-Envelope-To: <@>", "envelope line 2: X-Failmail-Envelope-To is not a path SMTP accepts")]
    [InlineData("X-Failmail-Envelope-To <a@y.test>", "envelope line 2 is not an X-Failmail-Envelope-From or -To field")]
    public async Task AnEnvelopeSmtpWouldRefuseIsMovedAside(string line, string expected)
    {
        var reason = await RefusedBeforeAGoodMessageAsync("0.bad", path =>
            File.WriteAllText(path, $"X-Failmail-Envelope-From: <a@y.test>\r\n{line}\r\nSubject: s\r\n\r\nb\r\n"));
        Assert.Equal(expected + "\n", reason);
    }

    [Fact]
    public void DisposeTwiceIsHarmless()
    {
        var importer = Importer(new MemoryMessageStore(), new ListSink());
        importer.Dispose();
        importer.Dispose();
    }

    [Fact]
    public async Task ARecipientTheRewriteMakesUncarriableIsRefusedAsSmtpRefusesIt()
    {
        // The same intake check as RCPT's 553: --rewrite-dest turns x@y.test into "x z@y.test".
        var options = Options with { RewriteSrc = "^x@(.*)$", RewriteDest = "x z@$1" };
        var reason = await RefusedBeforeAGoodMessageAsync("0.rewritten", path =>
            File.WriteAllBytes(path, SpoolFile.Encode(new SubmittedMessage("a@y.test", ["x@y.test"], "Subject: s\r\n\r\n"u8.ToArray()))), options);
        Assert.Equal("recipient <x@y.test> is rewritten to <x z@y.test>, which cannot be relayed\n", reason);
    }

    [Fact]
    public async Task FiveThousandRecipientsAreRefusedAsOverSmtp()
    {
        var recipients = Enumerable.Range(0, 5000).Select(i => $"r{i}@y.test").ToArray();
        var reason = await RefusedBeforeAGoodMessageAsync("0.many", path =>
            File.WriteAllBytes(path, SpoolFile.Encode(new SubmittedMessage("a@y.test", recipients, "Subject: s\r\n\r\n"u8.ToArray()))));
        Assert.Equal("more than 100 recipients (--max-recipients)\n", reason);
    }

    [Fact]
    public async Task ALinkPlantedAsBadIsNotFollowedAndDoesNotStopTheImport()
    {
        var elsewhere = Directory.CreateDirectory(Path.Combine(_dir, "elsewhere")).FullName;
        Spool(new SubmittedMessage("a@example.com", ["b@example.com"], "Subject: good\r\n\r\nb\r\n"u8.ToArray()));
        var stray = Path.Combine(NewDir, "0.stray");
        await File.WriteAllTextAsync(stray, "Subject: stray\r\n\r\n");
        File.CreateSymbolicLink(BadDir, elsewhere);
        var store = new MemoryMessageStore();
        var logs = new ListLoggerFactory();
        using var importer = Importer(store, new ListSink(), logs);

        Assert.Equal(1, await importer.ImportAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Single(store.LoadPending());
        Assert.True(File.Exists(stray));
        Assert.Empty(Directory.GetFileSystemEntries(elsewhere));
        var warning = Assert.Single(logs.Lines, l => l.Level == LogLevel.Warning);
        Assert.Equal($"spool entry 0.stray in {Options.SpoolDir} refused: no X-Failmail-Envelope-From line first: not a spooled message; "
            + $"it cannot be moved aside ({BadDir} is not a directory), so it stays in new/", warning.Text);
    }

    [Fact]
    public async Task ControlCharactersInAnEntryNameDoNotReachTheLog()
    {
        var logs = new ListLoggerFactory();
        Directory.CreateDirectory(NewDir);
        await File.WriteAllTextAsync(Path.Combine(NewDir, "1.y\rforged"), "junk");
        using var importer = Importer(new MemoryMessageStore(), new ListSink(), logs);
        await importer.ImportAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        var warning = Assert.Single(logs.Lines);
        Assert.StartsWith("spool entry 1.y?forged in ", warning.Text, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(BadDir, "1.y\rforged.reason")));
    }

    [Fact]
    public async Task AFullQueueEndsThePassAndTheMessageWaitsInTheSpool()
    {
        var name = Spool(new SubmittedMessage("a@example.com", ["b@example.com"], "Subject: s\r\n\r\nb\r\n"u8.ToArray()));
        var store = new MemoryMessageStore();
        var sink = new ListSink { HasCapacity = false };
        using var importer = Importer(store, sink);

        Assert.Equal(0, await importer.ImportAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Empty(store.LoadPending());
        Assert.True(File.Exists(Path.Combine(NewDir, name)));

        sink.HasCapacity = true;
        Assert.Equal(1, await importer.ImportAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task StartReturnsBeforeTheFirstImportAndDisposeStopsIt()
    {
        Spool(new SubmittedMessage("a@example.com", ["b@example.com"], "Subject: s\r\n\r\nb\r\n"u8.ToArray()));
        var sink = new BlockingSink();
        var importer = await SpoolImporter.StartAsync(Options with { Poll = TimeSpan.Zero }, new MemoryMessageStore(), sink,
            AddressRewriter.Create(Options), NullLoggerFactory.Instance, TimeProvider.System, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        // The first pass is stuck in the hand-off, and start-up went on anyway.
        await sink.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // Dispose cancels it: the message is committed, so the spool file goes.
        await Task.Run(importer.Dispose).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(Directory.GetFileSystemEntries(NewDir));
    }

    private sealed class BlockingSink : IMessageSink
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool HasCapacity => true;

        public async ValueTask AcceptAsync(ReceivedMessage message, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    private static (bool IsFifo, long Size) Stat(string path)
    {
        Assert.Equal(0, Failmail.Hosting.PosixNative.Stat(path, -1, out var mode, out var size));
        return ((mode & 0xF000) == 0x1000, size);
    }

    private static int MkFifo(string path, uint mode) => mkfifo(path, mode);

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // DllImport keeps the test project free of unsafe code (as Signals).
    private static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);
#pragma warning restore SYSLIB1054

    [Fact]
    public async Task AMissingSpoolDirectoryIsNothingToImport()
    {
        using var importer = Importer(new MemoryMessageStore(), new ListSink());
        Assert.Equal(0, await importer.ImportAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
