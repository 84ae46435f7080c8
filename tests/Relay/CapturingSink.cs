using Failmail.Batching;
using Failmail.Intake;
using Failmail.Maildir;

namespace Failmail.Tests.Relay;

// The batcher side of --relay-all: records what it was handed.
internal sealed class CapturingSink : IMessageSink
{
    public List<ReceivedMessage> Accepted { get; } = [];

    public bool HasCapacity => true;

    public ValueTask AcceptAsync(ReceivedMessage message, CancellationToken cancellationToken)
    {
        Accepted.Add(message);
        return ValueTask.CompletedTask;
    }
}
