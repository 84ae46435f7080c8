namespace Failmail.Maildir;

// A message that is durably stored: the hand-off from the receiver to the batcher.
// The bytes stay in the store; read them with IMessageStore.OpenRead(Id).
internal sealed record ReceivedMessage(string Id, Envelope Envelope, long Size);
