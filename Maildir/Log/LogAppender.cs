using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Failmail.Maildir.Log;

// Writes a group's records into a segment through one pooled buffer: a group that fits is
// one write(2) (the LogWriter then syncs it once); a larger one is written in buffer-sized
// parts. Spilled bodies are copied from their spill file in chunks.
internal static class LogAppender
{
    // Beyond this a group's records are written in more than one write(2).
    private const int BufferSize = 256 * 1024;

    private delegate void SpanSink(ReadOnlySpan<byte> bytes);

    // Writes the group at position and adds each record's offset and message to records;
    // returns the end of the last record. Nothing is synced here.
    public static long Append(SafeFileHandle handle, string stem, List<LogCommit> group, long position, List<(long, ReceivedMessage)> records)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var used = 0;
        try
        {
            void Put(ReadOnlySpan<byte> bytes)
            {
                while (bytes.Length > 0)
                {
                    if (used == buffer.Length)
                    {
                        RandomAccess.Write(handle, buffer.AsSpan(0, used), position);
                        position += used;
                        used = 0;
                    }
                    var part = Math.Min(bytes.Length, buffer.Length - used);
                    bytes[..part].CopyTo(buffer.AsSpan(used));
                    used += part;
                    bytes = bytes[part..];
                }
            }

            Span<byte> header = stackalloc byte[LogRecord.HeaderSize];
            foreach (var commit in group)
            {
                var offset = position + used;
                LogRecord.WriteHeader(header, commit.Meta.Length, LogRecord.Crc(0, commit.Meta), commit.BodyLength, commit.BodyCrc);
                Put(header);
                Put(commit.Meta);
                if (commit.Spill is { } spill)
                {
                    CopySpill(spill, commit.BodyLength, Put);
                }
                else
                {
                    Put(commit.Body.Span);
                }
                records.Add((offset, new ReceivedMessage(LogLayout.Id(stem, offset), commit.Envelope, commit.BodyLength)));
            }
            RandomAccess.Write(handle, buffer.AsSpan(0, used), position);
            return position + used;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void CopySpill(SafeFileHandle spill, long length, SpanSink put)
    {
        var chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            for (long done = 0; done < length;)
            {
                var read = RandomAccess.Read(spill, chunk.AsSpan(0, (int)Math.Min(chunk.Length, length - done)), done);
                if (read == 0)
                {
                    throw new IOException("the spill file is shorter than the message");
                }
                put(chunk.AsSpan(0, read));
                done += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}
