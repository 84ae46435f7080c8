namespace Failmail.Maildir;

// What the batcher asks of a store that can read a message into the batcher's own reused
// buffer (MessageReadBuffer) instead of a new array per read: reading 30 messages of 10 MB
// for one digest put 300 MB on the large object heap in half a second. Optional; other
// stores are read through IMessageStore.OpenRead.
internal interface IMessageReadInto
{
    // The message in the first bytes of an array from buffer(length). Throws as OpenRead
    // does: FileNotFoundException when the store no longer has it.
    ArraySegment<byte> ReadInto(string id, Func<int, byte[]> buffer);
}
