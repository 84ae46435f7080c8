using Failmail.Batching;
using Failmail.Intake;
using Failmail.Maildir;

namespace Failmail.Relay;

// --relay-all (spec §4.10, from failmail 0.2.0): every accepted message is also relayed
// at once, byte for byte, with its own envelope: the client's MAIL FROM (the null sender
// stays null) and the effective recipients, after --rewrite-src/--rewrite-dest. It is then
// handed on to the batcher, so recipients get the original and, later, the digest.
// If the outgoing queue cannot be written, AcceptAsync throws before the batcher sees the
// message; it stays in the incoming store, so nothing is lost.
internal sealed class RelayAllSink : IMessageSink
{
    private readonly IMessageSink _inner;
    private readonly IMessageStore _incoming;
    private readonly RelayService _relay;

    public RelayAllSink(IMessageSink inner, IMessageStore incoming, RelayService relay)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(incoming);
        ArgumentNullException.ThrowIfNull(relay);
        _inner = inner;
        _incoming = incoming;
        _relay = relay;
    }

    public bool HasCapacity => _inner.HasCapacity;

    public async ValueTask AcceptAsync(ReceivedMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var copy = new MemoryStream();
        var stream = _incoming.OpenRead(message.Id);
        await using (stream.ConfigureAwait(false))
        {
            await stream.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
        }
        _ = await _relay.EnqueueAsync(copy.GetBuffer().AsMemory(0, (int)copy.Length), message.Envelope, cancellationToken).ConfigureAwait(false);
        await _inner.AcceptAsync(message, cancellationToken).ConfigureAwait(false);
    }
}
