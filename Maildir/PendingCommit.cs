namespace Failmail.Maildir;

// A draft whose bytes and envelope are synced in tmp/, waiting for the committer to
// publish it. Completed by the committer, awaited by the draft.
internal sealed class PendingCommit(string name, ReceivedMessage message)
{
    public string Name { get; } = name;
    public ReceivedMessage Message { get; } = message;
    public string Id => Message.Id;
    public TaskCompletionSource<ReceivedMessage> Done { get; } =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
}
