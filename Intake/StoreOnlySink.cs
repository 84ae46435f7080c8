using Failmail.Maildir;

namespace Failmail.Intake;

// --receiver without --sender: the message is already durable in the store, and the sender
// process (--sender) finds it there on its next poll, so there is nothing to hand on.
internal sealed class StoreOnlySink : IMessageSink
{
    public static readonly StoreOnlySink Instance = new();

    public bool HasCapacity => true;

    public ValueTask AcceptAsync(ReceivedMessage message, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
