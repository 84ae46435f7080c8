namespace Failmail.Maildir;

// The incoming store. The receiver streams DATA into a draft and commits it; a commit
// that returns means the message survives kill -9 (for the disk store). The batcher
// loads what is pending, reads bytes back and removes messages once their digest is out.
internal interface IMessageStore
{
    // Starts a new message. Throws IOException when the store cannot be written to.
    IMessageDraft CreateDraft();

    // Every committed message still in the store, oldest first.
    IReadOnlyList<ReceivedMessage> LoadPending();

    // The stored RFC 5322 bytes (CRLF line ends, dot-unstuffed).
    Stream OpenRead(string id);

    // Deletes messages whose digests are delivered or in the fail-dir. Unknown ids are ignored.
    void Remove(IEnumerable<string> ids);

    // Throws IOException (or UnauthorizedAccessException) when a message could not be
    // stored now; /healthz asks. Stores that cannot fail (memory) need not override it.
    void CheckWritable()
    {
    }
}
