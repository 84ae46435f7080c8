using System.Buffers;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace Failmail.Maildir.Log;

// Reads a segment's records from a given offset, checking every checksum. Stops at the
// first record that is incomplete or does not check out: the end of what is readable now.
internal static class LogSegmentScanner
{
    private const int ChunkSize = 64 * 1024;
    // ReadBody's first read: a whole record of a typical alert (header, envelope, ~1-4 KB).
    private const int FirstReadSize = 8 * 1024;

    public enum Stop
    {
        // Every byte of the file was a complete, valid record.
        End,
        // A partial record at the tail: a write in progress, or one interrupted by a crash.
        Incomplete,
        // Bytes that are not a valid record, with complete-looking data after them.
        Unreadable,
    }

    public readonly record struct Result(long ScannedTo, Stop Stop);

    // Calls found(offset, message) for each record; envelopes that are unusable (no
    // recipients) are passed as null so the caller can report them.
    public static Result Scan(SafeFileHandle handle, string stem, long from, Action<long, ReceivedMessage?> found)
    {
        var length = RandomAccess.GetLength(handle);
        var offset = from;
        Span<byte> headerBytes = stackalloc byte[LogRecord.HeaderSize];
        var chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            while (offset < length)
            {
                if (length - offset < LogRecord.HeaderSize)
                {
                    return new Result(offset, Stop.Incomplete);
                }
                ReadExactly(handle, headerBytes, offset);
                if (!LogRecord.TryReadHeader(headerBytes, out var header))
                {
                    return new Result(offset, Stop.Unreadable);
                }
                if (offset + header.RecordSize > length)
                {
                    return new Result(offset, Stop.Incomplete);
                }
                var meta = new byte[header.MetaLength];
                ReadExactly(handle, meta, offset + LogRecord.HeaderSize);
                if (LogRecord.Crc(0, meta) != header.MetaCrc || BodyCrc(handle, offset + LogRecord.HeaderSize + header.MetaLength, header.BodyLength, chunk) != header.BodyCrc)
                {
                    // A torn last record reads as complete when the file's size was
                    // written but not its data: only the very last record may be that.
                    return new Result(offset, offset + header.RecordSize == length ? Stop.Incomplete : Stop.Unreadable);
                }
                found(offset, ToMessage(stem, offset, meta, header.BodyLength));
                offset += header.RecordSize;
            }
            return new Result(offset, Stop.End);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    // The body of the record at offset, checked against its header: null when there is no
    // valid record there. A small record (the usual alert) takes one pread: header, envelope
    // and body together; a larger one a second pread for the rest of its body.
    public static byte[]? ReadBody(SafeFileHandle handle, long offset) =>
        ReadBody(handle, offset, length => new byte[length]) is { } body ? body.Array : null;

    // The body in the first bytes of an array from buffer(length) (a caller's reused buffer, at
    // least length long), so a large message is not a new array per read.
    public static ArraySegment<byte>? ReadBody(SafeFileHandle handle, long offset, Func<int, byte[]> buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (offset < 0)
        {
            return null;
        }
        var first = ArrayPool<byte>.Shared.Rent(FirstReadSize);
        try
        {
            var read = ReadAtMost(handle, first.AsSpan(0, FirstReadSize), offset);
            if (read < LogRecord.HeaderSize || !LogRecord.TryReadHeader(first.AsSpan(0, LogRecord.HeaderSize), out var header))
            {
                return null;
            }
            if (read < FirstReadSize && read < header.RecordSize)
            {
                // The file ended inside the record.
                return null;
            }
            var bodyStart = LogRecord.HeaderSize + header.MetaLength;
            var bodyLength = checked((int)header.BodyLength); // as new byte[BodyLength] would
            var array = buffer(bodyLength);
            var body = array.AsSpan(0, bodyLength);
            var inFirst = (int)Math.Clamp(read - bodyStart, 0, body.Length);
            first.AsSpan((int)Math.Min(bodyStart, read), inFirst).CopyTo(body);
            if (inFirst < body.Length)
            {
                ReadExactly(handle, body[inFirst..], offset + bodyStart + inFirst);
            }
            return LogRecord.Crc(0, body) == header.BodyCrc ? new ArraySegment<byte>(array, 0, bodyLength) : (ArraySegment<byte>?)null;
        }
        catch (EndOfStreamException)
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(first);
        }
    }

    private static ReceivedMessage? ToMessage(string stem, long offset, byte[] meta, long size)
    {
        MetaRecord? record;
        try
        {
            record = JsonSerializer.Deserialize(meta, MetaJsonContext.Default.MetaRecord);
        }
        catch (JsonException)
        {
            return null;
        }
        // Our records always carry Received; the fallback only keeps the type total.
        var envelope = record?.ToEnvelope(() => DateTimeOffset.UnixEpoch);
        return envelope is null ? null : new ReceivedMessage(LogLayout.Id(stem, offset), envelope, size);
    }

    private static uint BodyCrc(SafeFileHandle handle, long offset, long length, byte[] chunk)
    {
        uint crc = 0;
        while (length > 0)
        {
            var part = chunk.AsSpan(0, (int)Math.Min(chunk.Length, length));
            ReadExactly(handle, part, offset);
            crc = LogRecord.Crc(crc, part);
            offset += part.Length;
            length -= part.Length;
        }
        return crc;
    }

    // Fills buffer from offset or up to the end of the file; returns how much it read.
    private static int ReadAtMost(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (read == 0)
            {
                break;
            }
            total += read;
        }
        return total;
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        if (ReadAtMost(handle, buffer, offset) < buffer.Length)
        {
            throw new EndOfStreamException("the segment ended inside a record");
        }
    }
}
