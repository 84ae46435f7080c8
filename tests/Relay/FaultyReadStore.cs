using Failmail.Maildir;

namespace Failmail.Tests.Relay;

// A real MemoryMessageStore with a switch that makes reads fail unexpectedly.
internal sealed class FaultyReadStore : IMessageStore
{
    private readonly MemoryMessageStore _inner = new();

    public volatile bool FailReads;

    public IMessageDraft CreateDraft() => _inner.CreateDraft();

    public IReadOnlyList<ReceivedMessage> LoadPending() => _inner.LoadPending();

    public Stream OpenRead(string id) => FailReads ? throw new InvalidOperationException("store fault") : _inner.OpenRead(id);

    public void Remove(IEnumerable<string> ids) => _inner.Remove(ids);
}
