using System.Text;
using Failmail.Maildir;

namespace Failmail.Tests.Maildir;

public class MemoryMessageStoreTests
{
    [Fact]
    public async Task CommittedMessageIsPendingAndReadableUntilRemoved()
    {
        var store = new MemoryMessageStore();
        await using var draft = store.CreateDraft();
        draft.Write("Subject: x\r\n\r\nbody\r\n"u8);
        var envelope = new Envelope("a@example.com", ["b@example.com"], DateTimeOffset.UnixEpoch, "127.0.0.1");
        var message = await draft.CommitAsync(envelope, CancellationToken.None);

        Assert.Equal([message.Id], store.LoadPending().Select(m => m.Id));
        using (var reader = new StreamReader(store.OpenRead(message.Id), Encoding.ASCII))
        {
            Assert.Equal("Subject: x\r\n\r\nbody\r\n", await reader.ReadToEndAsync());
        }

        store.Remove([message.Id]);
        Assert.Empty(store.LoadPending());
    }
}
