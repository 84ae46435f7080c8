using System.Collections.Concurrent;

namespace Failmail.Maildir;

// --memory-store: the messages live in this process only and are lost on exit. Unlike
// failmail's, it is one instance shared by receiver and batcher, so mail is delivered.
internal sealed class MemoryMessageStore : IMessageStore
{
    private readonly ConcurrentDictionary<string, (ReceivedMessage Message, byte[] Bytes)> _messages = new();
    private long _next;

    public IMessageDraft CreateDraft() => new Draft(this);

    public IReadOnlyList<ReceivedMessage> LoadPending() =>
        _messages.Values.Select(m => m.Message).OrderBy(m => m.Envelope.Received).ThenBy(m => m.Id, StringComparer.Ordinal).ToList();

    public Stream OpenRead(string id) =>
        _messages.TryGetValue(id, out var entry)
            ? new MemoryStream(entry.Bytes, writable: false)
            : throw new FileNotFoundException("no such message in the memory store", id);

    public void Remove(IEnumerable<string> ids)
    {
        foreach (var id in ids)
        {
            _messages.TryRemove(id, out _);
        }
    }

    private sealed class Draft(MemoryMessageStore store) : IMessageDraft
    {
        private readonly MemoryStream _buffer = new();

        public long Length => _buffer.Length;

        public void Write(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

        public ValueTask<ReceivedMessage> CommitAsync(Envelope envelope, CancellationToken cancellationToken)
        {
            var id = Interlocked.Increment(ref store._next).ToString("D12", System.Globalization.CultureInfo.InvariantCulture);
            var message = new ReceivedMessage(id, envelope, _buffer.Length);
            store._messages[id] = (message, _buffer.ToArray());
            return ValueTask.FromResult(message);
        }

        public ValueTask DisposeAsync()
        {
            _buffer.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
