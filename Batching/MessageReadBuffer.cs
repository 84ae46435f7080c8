using System.Diagnostics;
using Failmail.Maildir;
using Microsoft.Extensions.Logging;

namespace Failmail.Batching;

// The batcher loop's one buffer for reading stored messages back (for their keys, and for
// the body a digest shows). A new array per read put up to --max-message-size on the large
// object heap each time: the first digest of 30 messages of 10 MB read 300 MB in half a
// second, faster than the GC gave it back (RSS 23 MB → 186 MB). The buffer grows to the
// largest message read and stays, so memory is bounded by the limit, not by the traffic.
// Single-threaded (the batcher loop); what Read returns is valid until the next Read.
internal sealed class MessageReadBuffer
{
    private const int Granule = 64 * 1024;

    private byte[] _buffer = [];

    // The message's bytes: the first `length` of `bytes`, which is this buffer (overwritten by
    // the next Read) or the store's own immutable copy (MemoryMessageStore). False when the
    // store no longer has the message (logged, as StoredMessages.Read).
    public bool TryRead(IMessageStore store, string id, ILogger logger, out byte[] bytes, out int length)
    {
        ArgumentNullException.ThrowIfNull(store);
        bytes = _buffer;
        length = 0;
        try
        {
            if (store is IMessageReadInto into)
            {
                var segment = into.ReadInto(id, Reserve);
                Debug.Assert(segment.Array is not null && segment.Offset == 0, "ReadInto fills the start of an array");
                (bytes, length) = (segment.Array!, segment.Count);
                return true;
            }
            using var stream = store.OpenRead(id);
            if (stream is MemoryStream memory && memory.TryGetBuffer(out var whole)
                && whole.Array is { } array && whole.Offset == 0 && whole.Count == array.Length && memory.Position == 0)
            {
                bytes = array;
                length = array.Length;
                return true;
            }
            if (stream.CanSeek)
            {
                length = checked((int)(stream.Length - stream.Position));
                bytes = Reserve(length);
                stream.ReadExactly(bytes, 0, length);
                return true;
            }
            while (true)
            {
                bytes = Reserve(Math.Max(length + Granule, Math.Min(2L * _buffer.Length, Array.MaxLength)));
                var n = stream.Read(bytes, length, bytes.Length - length);
                if (n == 0)
                {
                    return true;
                }
                length += n;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            BatchLog.MessageUnreadable(logger, e, id);
            return false;
        }
    }

    // Whether bytes is this buffer (so a caller that keeps them must copy).
    public bool IsBuffer(byte[] bytes) => ReferenceEquals(bytes, _buffer);

    private byte[] Reserve(int length) => Reserve((long)length);

    private byte[] Reserve(long length)
    {
        if (_buffer.Length < length)
        {
            var size = Math.Min((length + Granule - 1) / Granule * Granule, Array.MaxLength);
            var grown = GC.AllocateUninitializedArray<byte>((int)size);
            _buffer.AsSpan().CopyTo(grown);
            _buffer = grown;
        }
        return _buffer;
    }
}
