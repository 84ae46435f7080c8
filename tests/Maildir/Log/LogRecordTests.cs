using System.Text;
using Failmail.Maildir;
using Failmail.Maildir.Log;

namespace Failmail.Tests.Maildir.Log;

public class LogRecordTests
{
    [Fact]
    public void ChecksumDoesNotDependOnHowTheBytesAreSplit()
    {
        var bytes = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 300).Select(i => $"line {i}\r\n")));
        var whole = LogRecord.Crc(0, bytes);
        var random = new Random(7);
        for (var run = 0; run < 50; run++)
        {
            uint crc = 0;
            for (var i = 0; i < bytes.Length;)
            {
                var part = Math.Min(random.Next(1, 40), bytes.Length - i);
                crc = LogRecord.Crc(crc, bytes.AsSpan(i, part));
                i += part;
            }
            Assert.Equal(whole, crc);
        }
        // CRC-32C of "123456789" is the standard check value 0xE3069283 (with the usual
        // pre- and post-inversion).
        Assert.Equal(0xE3069283u, ~LogRecord.Crc(0xFFFFFFFFu, "123456789"u8));
    }

    [Fact]
    public void HeaderRoundTripsAndAnyFlippedByteIsRejected()
    {
        var header = new byte[LogRecord.HeaderSize];
        LogRecord.WriteHeader(header, 123, 0xDEADBEEF, 4567, 0x01020304);
        Assert.True(LogRecord.TryReadHeader(header, out var parsed));
        Assert.Equal(new LogRecord.Header(123, 0xDEADBEEF, 4567, 0x01020304), parsed);
        Assert.Equal(LogRecord.HeaderSize + 123 + 4567, parsed.RecordSize);
        for (var i = 0; i < header.Length; i++)
        {
            var copy = (byte[])header.Clone();
            copy[i] ^= 0x01;
            Assert.False(LogRecord.TryReadHeader(copy, out _));
        }
        Assert.False(LogRecord.TryReadHeader(header.AsSpan(0, 23), out _));
    }

    [Theory]
    [InlineData("1700000000.1_1Rab.host#1f", "1700000000.1_1Rab.host", 31)]
    [InlineData("s#0", "s", 0)]
    public void IdsParseBackToSegmentAndOffset(string id, string stem, long offset)
    {
        Assert.True(LogLayout.TryParseId(id, out var parsedStem, out var parsedOffset));
        Assert.Equal(stem, parsedStem);
        Assert.Equal(offset, parsedOffset);
        Assert.Equal(id, LogLayout.Id(stem, offset));
    }

    [Theory]
    [InlineData("#1")]
    [InlineData("a#b#1")]
    [InlineData("a#")]
    [InlineData("a#-1")]
    [InlineData("../a#1")]
    public void MalformedIdsAreRefused(string id) => Assert.False(LogLayout.TryParseId(id, out _, out _));
}
