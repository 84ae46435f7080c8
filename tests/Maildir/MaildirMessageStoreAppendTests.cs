using System.Text;
using Failmail.Maildir;
using Microsoft.Extensions.Logging.Abstractions;

namespace Failmail.Tests.Maildir;

// OpenForAppend: a second process (failmail resend) committing into a store a running
// failmail owns must leave the owner's unfinished work alone.
public sealed class MaildirMessageStoreAppendTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "failmail-append-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task AppendingStoreRunsNoRecoveryAndItsCommitsAreSeenByTheOwner()
    {
        using var owner = new MaildirMessageStore(_root, NullLoggerFactory.Instance, TimeProvider.System);
        // The owner's first LoadPending hands out its recovery scan (the relay's start-up load);
        // later ones scan again and see what others committed.
        Assert.Empty(owner.LoadPending());
        // The owner's draft being received, and a commit caught between its two renames.
        var draftFile = Path.Combine(_root, "tmp", "1700000000.1_1Rabc.host");
        await File.WriteAllTextAsync(draftFile, "half a message");
        var between = Path.Combine(_root, "cur", "1700000000.1_2Rdef.host:2,S");
        await File.WriteAllTextAsync(between, "bytes whose meta is on its way");

        using (var appender = MaildirMessageStore.OpenForAppend(_root, NullLoggerFactory.Instance, TimeProvider.System))
        {
            var draft = appender.CreateDraft();
            await using (draft)
            {
                draft.Write(Encoding.ASCII.GetBytes("To: ops@example.com\r\n\r\nresent\r\n"));
                await draft.CommitAsync(new Envelope("failmail@test.example", ["ops@example.com"], DateTimeOffset.UtcNow, ""), CancellationToken.None)
                    .AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }

        Assert.True(File.Exists(draftFile));
        Assert.True(File.Exists(between));
        var pending = Assert.Single(owner.LoadPending());
        Assert.Equal(["ops@example.com"], pending.Envelope.Recipients);
    }
}
