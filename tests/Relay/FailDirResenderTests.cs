using System.CommandLine;
using System.Text;
using Failmail.Cli;
using Failmail.Maildir;
using Failmail.Relay;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Failmail.Tests.Relay.RelayTestKit;

namespace Failmail.Tests.Relay;

public class FailDirResenderTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static string FailDir(TempDir dir, params (string Sub, string Text)[] messages)
    {
        var root = Path.Combine(dir.Path, "failed");
        var writer = new MaildirWriter(root);
        foreach (var (sub, text) in messages)
        {
            var name = writer.Deliver(Encoding.UTF8.GetBytes(text));
            if (sub == "cur")
            {
                File.Move(Path.Combine(root, "new", name), Path.Combine(root, "cur", name + ":2,S"));
            }
        }
        return root;
    }

    private static int Files(string failDir) =>
        Directory.GetFiles(Path.Combine(failDir, "new")).Length + Directory.GetFiles(Path.Combine(failDir, "cur")).Length;

    [Fact]
    public async Task MessagesFromNewAndCurAreQueuedWithTheirEnvelopeAndRemoved()
    {
        using var dir = new TempDir();
        var failDir = FailDir(dir,
            ("new", "From: failmail@test.example\r\nTo: ops@example.com\r\nSubject: [failmail] 2 instances: disk\r\n\r\nbody 1\r\n"),
            ("cur", "From: app@example.com\r\nTo: a@example.com, \"B\" <b@example.com>\r\nCc: c@example.com\r\nBcc: a@example.com\r\nSubject: x\r\n\r\nbody 2\r\n"));
        var queue = new MemoryMessageStore();
        var time = new FakeTimeProvider(Start);

        var result = await FailDirResender.ResendAsync(failDir, queue, "default@test.example", time, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(2, result.Queued);
        Assert.Empty(result.Skipped);
        Assert.Equal(0, Files(failDir));
        var pending = queue.LoadPending();
        Assert.Equal(2, pending.Count);
        var digest = Assert.Single(pending, m => m.Envelope.Recipients.SequenceEqual(["ops@example.com"]));
        Assert.Equal("failmail@test.example", digest.Envelope.From);
        Assert.Equal(Start, digest.Envelope.Received);
        using (var reader = new StreamReader(queue.OpenRead(digest.Id)))
        {
            Assert.Equal("From: failmail@test.example\r\nTo: ops@example.com\r\nSubject: [failmail] 2 instances: disk\r\n\r\nbody 1\r\n", await reader.ReadToEndAsync());
        }
        var other = Assert.Single(pending, m => m != digest);
        Assert.Equal("app@example.com", other.Envelope.From);
        Assert.Equal(["a@example.com", "b@example.com", "c@example.com"], other.Envelope.Recipients);
    }

    [Fact]
    public async Task SecondRunQueuesNothing()
    {
        using var dir = new TempDir();
        var failDir = FailDir(dir, ("new", "To: ops@example.com\r\nSubject: s\r\n\r\nb\r\n"));
        var queue = new MemoryMessageStore();
        var time = new FakeTimeProvider(Start);

        var first = await FailDirResender.ResendAsync(failDir, queue, "default@test.example", time, CancellationToken.None).WaitAsync(Patience);
        var second = await FailDirResender.ResendAsync(failDir, queue, "default@test.example", time, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(1, first.Queued);
        Assert.Equal(0, second.Queued);
        var only = Assert.Single(queue.LoadPending());
        // No From header: the envelope sender is --from.
        Assert.Equal("default@test.example", only.Envelope.From);
    }

    [Fact]
    public async Task MessageWithoutRecipientsStaysInTheFailDir()
    {
        using var dir = new TempDir();
        var failDir = FailDir(dir, ("new", "From: a@example.com\r\nSubject: nobody\r\n\r\nb\r\n"), ("new", "To: ops@example.com\r\n\r\nb\r\n"));
        var queue = new MemoryMessageStore();

        var result = await FailDirResender.ResendAsync(failDir, queue, "d@test.example", new FakeTimeProvider(Start), CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(1, result.Queued);
        Assert.Contains("no recipient", Assert.Single(result.Skipped), StringComparison.Ordinal);
        Assert.Equal(1, Files(failDir));
    }

    [Fact]
    public async Task QueueThatCannotBeWrittenLeavesTheFailDirAlone()
    {
        using var dir = new TempDir();
        var failDir = FailDir(dir, ("new", "To: ops@example.com\r\n\r\nb\r\n"));

        await Assert.ThrowsAsync<IOException>(() =>
            FailDirResender.ResendAsync(failDir, new FailingQueue(), "d@test.example", new FakeTimeProvider(Start), CancellationToken.None).WaitAsync(Patience));

        Assert.Equal(1, Files(failDir));
    }

    [Fact]
    public async Task NotAMaildirIsAnError()
    {
        using var dir = new TempDir();
        await Assert.ThrowsAsync<DirectoryNotFoundException>(() =>
            FailDirResender.ResendAsync(Path.Combine(dir.Path, "nope"), new MemoryMessageStore(), "d@test.example", new FakeTimeProvider(Start), CancellationToken.None).WaitAsync(Patience));
    }

    [Fact]
    public async Task ResendSubcommandTakesRootFlagsAndQueuesIntoTheDurableQueue()
    {
        using var dir = new TempDir();
        var failDir = FailDir(dir, ("new", "From: failmail@test.example\r\nTo: ops@example.com\r\n\r\nb\r\n"), ("cur", "To: dev@example.com\r\n\r\nb\r\n"));
        var queueDir = Path.Combine(dir.Path, "outgoing");
        var started = false;
        var command = new FailmailCommand((_, _) => { started = true; return Task.FromResult(0); });
        var output = new StringWriter();
        var error = new StringWriter();

        var exit = await command.InvokeAsync(["-queue-dir", queueDir, "--from=me@test.example", "resend", failDir],
            new InvocationConfiguration { Output = output, Error = error }).WaitAsync(Patience);

        Assert.True(exit == 0, error.ToString());
        Assert.False(started);
        Assert.Contains("queued 2 message(s)", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, Files(failDir));
        using var queue = new MaildirMessageStore(queueDir, NullLoggerFactory.Instance, TimeProvider.System);
        var pending = queue.LoadPending();
        Assert.Equal(2, pending.Count);
        Assert.Contains(pending, m => m.Envelope.From == "me@test.example" && m.Envelope.Recipients.SequenceEqual(["dev@example.com"]));
    }

    [Fact]
    public async Task ResendRefusesTheMemoryStore()
    {
        using var dir = new TempDir();
        var failDir = FailDir(dir, ("new", "To: ops@example.com\r\n\r\nb\r\n"));
        var error = new StringWriter();

        var exit = await new FailmailCommand((_, _) => Task.FromResult(0)).InvokeAsync(["--memory-store", "resend", failDir],
            new InvocationConfiguration { Output = TextWriter.Null, Error = error }).WaitAsync(Patience);

        Assert.Equal(2, exit);
        Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(1, Files(failDir));
    }

    private sealed class FailingQueue : IMessageStore
    {
        public IMessageDraft CreateDraft() => throw new IOException("queue disk full", 28);

        public IReadOnlyList<ReceivedMessage> LoadPending() => [];

        public Stream OpenRead(string id) => throw new FileNotFoundException();

        public void Remove(IEnumerable<string> ids)
        {
        }
    }
}
