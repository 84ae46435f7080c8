using Failmail.Maildir;

namespace Failmail.Relay;

// One message in the outgoing queue. The list that holds it is guarded by RelayQueue's
// lock; NotBefore and Attempts belong to the relay worker alone.
internal sealed class RelayQueueEntry(ReceivedMessage message)
{
    public ReceivedMessage Message { get; } = message;

    public string Id => Message.Id;

    // A TimeProvider timestamp: no attempt before it. 0 = due now.
    public long NotBefore { get; set; }

    // Attempts the relay deferred with 4xx; drives this message's own backoff.
    public int Attempts { get; set; }

    // Attempts that ended in an exception nobody classified (a bug or a digest MailKit cannot
    // write): the second one sends this message to the fail-dir, not the whole queue into backoff.
    public int Faults { get; set; }

    // Why the last attempt failed, for the API's queue view ("" before any failure).
    public string LastError { get; set; } = "";

    public string Recipients => string.Join(',', Message.Envelope.Recipients);
}
