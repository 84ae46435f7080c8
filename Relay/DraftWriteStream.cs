using Failmail.Maildir;

namespace Failmail.Relay;

// A write-only Stream into a message draft, so MimeKit serialises a digest straight into the
// outgoing queue's file instead of into a MemoryStream that is then copied there (a copy of
// every digest on the large object heap, all of a hand-off wave's at once). Synchronous: the
// draft's writes are.
internal sealed class DraftWriteStream(IMessageDraft draft) : Stream
{
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => draft.Length;

    public override long Position
    {
        get => draft.Length;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => draft.Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer) => draft.Write(buffer);

    public override void Flush()
    {
        // The draft flushes (and syncs) on commit.
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
