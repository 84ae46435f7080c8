using Failmail.Maildir;

namespace Failmail.Intake;

// Where the receiver hands each committed message. In one process this is the batcher's
// bounded queue; with --receiver alone it is a no-op, because the sender process polls the store.
internal interface IMessageSink
{
    // False when the queue is full: SMTP then answers DATA with 451 rather than store more.
    bool HasCapacity { get; }

    ValueTask AcceptAsync(ReceivedMessage message, CancellationToken cancellationToken);
}
