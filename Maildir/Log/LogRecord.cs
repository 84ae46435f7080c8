using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Failmail.Maildir.Log;

// One message in a log segment: a 24-byte header, the envelope (MetaRecord JSON, as in
// .meta/) and the message bytes. Little-endian:
//   0  magic "FML1"      8  body length      16 body CRC-32C
//   4  meta length      12  meta CRC-32C     20 header CRC-32C (of bytes 0-19)
// The header has its own checksum so a torn or garbage tail is recognised before its
// lengths are trusted; the body checksum is computed while the body streams in.
internal static class LogRecord
{
    public const int HeaderSize = 24;
    private const uint Magic = 0x314C4D46; // "FML1"

    public static long Size(int metaLength, long bodyLength) => HeaderSize + metaLength + bodyLength;

    public static void WriteHeader(Span<byte> header, int metaLength, uint metaCrc, long bodyLength, uint bodyCrc)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], metaLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], checked((uint)bodyLength));
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], metaCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], bodyCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], Crc(0, header[..20]));
    }

    // False when these bytes are not a record header (torn write, garbage, another format).
    public static bool TryReadHeader(ReadOnlySpan<byte> header, out Header parsed)
    {
        parsed = default;
        if (header.Length < HeaderSize
            || BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(header[20..]) != Crc(0, header[..20]))
        {
            return false;
        }
        var metaLength = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        if (metaLength <= 0)
        {
            return false;
        }
        parsed = new Header(
            metaLength,
            BinaryPrimitives.ReadUInt32LittleEndian(header[12..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[16..]));
        return true;
    }

    // CRC-32C, hardware-accelerated where the CPU has it (SSE 4.2 on x64).
    public static uint Crc(uint crc, ReadOnlySpan<byte> bytes)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (var word in words)
        {
            crc = BitOperations.Crc32C(crc, word);
        }
        foreach (var b in bytes[(words.Length * sizeof(ulong))..])
        {
            crc = BitOperations.Crc32C(crc, b);
        }
        return crc;
    }

    internal readonly record struct Header(int MetaLength, uint MetaCrc, long BodyLength, uint BodyCrc)
    {
        public long RecordSize => Size(MetaLength, BodyLength);
    }
}
