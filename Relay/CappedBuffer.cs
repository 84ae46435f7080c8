namespace Failmail.Relay;

// A write-only stream that keeps the first Capacity bytes written and counts the rest: the
// history's copy of a digest (RelayDelivery.Record) without a buffer the size of the digest.
internal sealed class CappedBuffer(int capacity) : Stream
{
    private readonly byte[] _kept = new byte[capacity];
    private int _used;
    private long _length;

    // The bytes kept, valid until the next Reset or write.
    public ReadOnlyMemory<byte> Kept => _kept.AsMemory(0, _used);

    public override long Length => _length;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    public void Reset()
    {
        _used = 0;
        _length = 0;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var room = Math.Min(buffer.Length, _kept.Length - _used);
        buffer[..room].CopyTo(_kept.AsSpan(_used));
        _used += room;
        _length += buffer.Length;
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
