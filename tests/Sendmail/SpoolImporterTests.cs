using System.Text;
using Failmail.Batching;
using Failmail.Maildir;
using Failmail.Rewriting;
using Failmail.Sendmail;
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
        public bool HasCapacity => true;

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

    private SpoolImporter Importer(IMessageStore store, IMessageSink sink) =>
        new(Options, store, sink, AddressRewriter.Create(Options), NullLoggerFactory.Instance, TimeProvider.System);

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
    public async Task AFileWithoutAnEnvelopeIsMovedAsideNotImported()
    {
        var name = new MaildirWriter(Options.SpoolDir).Deliver("Subject: stray\r\n\r\n"u8);
        var store = new MemoryMessageStore();
        using var importer = Importer(store, new ListSink());

        Assert.Equal(0, await importer.ImportAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Empty(store.LoadPending());
        Assert.Equal("Subject: stray\r\n\r\n", Encoding.UTF8.GetString(await File.ReadAllBytesAsync(Path.Combine(Options.SpoolDir, "cur", name))));
    }

    [Fact]
    public async Task AMissingSpoolDirectoryIsNothingToImport()
    {
        using var importer = Importer(new MemoryMessageStore(), new ListSink());
        Assert.Equal(0, await importer.ImportAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
