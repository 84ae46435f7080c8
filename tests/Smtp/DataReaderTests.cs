using System.Buffers;
using System.Text;
using Failmail.Maildir;
using Failmail.Smtp;

namespace Failmail.Tests.Smtp;

public class DataReaderTests
{
    private sealed class CapturingDraft : IMessageDraft
    {
        public MemoryStream Bytes { get; } = new();
        public long Length => Bytes.Length;
        public void Write(ReadOnlySpan<byte> bytes) => Bytes.Write(bytes);
        public ValueTask<ReceivedMessage> CommitAsync(Envelope envelope, CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    // Feeds the wire bytes in the given sequence; returns (stored text, bytes left after the end).
    private static (string Stored, string Remainder, DataReader Reader) Run(ReadOnlySequence<byte> wire, long max = 1 << 20)
    {
        var draft = new CapturingDraft();
        var reader = new DataReader(draft, max);
        var done = reader.TryReadToEnd(wire, out var consumed);
        var rest = done ? Encoding.ASCII.GetString(wire.Slice(consumed).ToArray()) : "<incomplete>";
        return (Encoding.ASCII.GetString(draft.Bytes.ToArray()), rest, reader);
    }

    public static TheoryData<string, string> Cases => new()
    {
        { "Subject: x\r\n\r\nbody\r\n.\r\n", "Subject: x\r\n\r\nbody\r\n" },
        { ".\r\n", "" },
        { "..leading dot\r\n.\r\n", ".leading dot\r\n" },
        { "a\r\n...\r\n.\r\n", "a\r\n..\r\n" },
        { "mid.dle\r\n.\r\n", "mid.dle\r\n" },
        { "bare\nlf\r\n.\r\n", "bare\r\nlf\r\n" },
        { "bare\rcr\r\n.\r\n", "bare\r\ncr\r\n" },
        { "a\n.\nb\r\n.\r\n", "a\r\n.\r\nb\r\n" },
        { "a\r\n.\nb\r\n.\r\n", "a\r\n\r\nb\r\n" },
        { "a\n.\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n" },
        { "a\r\n.\rb\r\n.\r\n", "a\r\n\r\nb\r\n" },
        { "crcr\r\r\n.\r\n", "crcr\r\n\r\n" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void DataIsUnstuffedNormalisedAndEndsOnlyOnCrLfDotCrLf(string wire, string stored)
    {
        var bytes = Encoding.ASCII.GetBytes(wire + "NEXT");
        foreach (var sequence in Segments.Variants(bytes))
        {
            var (actual, rest, reader) = Run(sequence);
            Assert.Equal(stored, actual);
            Assert.Equal("NEXT", rest);
            Assert.Equal(stored.Length, reader.Length);
            Assert.Equal(wire.Length, reader.WireLength);
        }
    }

    [Fact]
    public void FedOneByteAtATimeAcrossCallsTheStateCarriesOver()
    {
        var draft = new CapturingDraft();
        var reader = new DataReader(draft, 1000);
        var wire = "x\r\n..y\nz\r\n.\r\n"u8.ToArray();
        for (var i = 0; i < wire.Length; i++)
        {
            var done = reader.TryReadToEnd(new ReadOnlySequence<byte>(wire, i, 1), out _);
            Assert.Equal(i == wire.Length - 1, done);
        }
        Assert.Equal("x\r\n.y\r\nz\r\n", Encoding.ASCII.GetString(draft.Bytes.ToArray()));
    }

    [Theory]
    [InlineData("no end\n.\n")]
    [InlineData("no end\r\n.\n")]
    [InlineData("no end\n.\r\n")]
    [InlineData("no end\r.\r")]
    [InlineData("no end\r\n.")]
    public void SmugglingTerminatorsDoNotEndTheData(string wire)
    {
        foreach (var sequence in Segments.Variants(Encoding.ASCII.GetBytes(wire)))
        {
            Assert.Equal("<incomplete>", Run(sequence).Remainder);
        }
    }

    [Fact]
    public void OverTheLimitNothingMoreIsWrittenButTheEndIsStillFound()
    {
        var body = new string('x', 50) + "\r\n";
        var wire = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(body, 10)) + ".\r\nQUIT\r\n");
        foreach (var sequence in Segments.Variants(wire))
        {
            var (stored, rest, reader) = Run(sequence, max: 100);
            Assert.True(reader.TooLarge);
            Assert.True(stored.Length <= 100);
            Assert.Equal("QUIT\r\n", rest);
        }
    }

    [Fact]
    public void ExactlyAtTheLimitIsAccepted()
    {
        var (stored, _, reader) = Run(new ReadOnlySequence<byte>("12345678\r\n.\r\n"u8.ToArray()), max: 10);
        Assert.False(reader.TooLarge);
        Assert.Equal("12345678\r\n", stored);
    }

    [Fact]
    public void AWriteErrorIsRecordedAndTheRestDrained()
    {
        var store = new FailingStore("write");
        var draft = store.CreateDraft();
        var reader = new DataReader(draft, 1000);
        Assert.True(reader.TryReadToEnd(new ReadOnlySequence<byte>("a\r\nb\r\n.\r\n"u8.ToArray()), out _));
        Assert.NotNull(reader.WriteError);
    }

    [Fact]
    public void LongLinesWithoutLineEndsAreStreamedNotBuffered()
    {
        var draft = new CapturingDraft();
        var reader = new DataReader(draft, 1 << 20);
        var chunk = Encoding.ASCII.GetBytes(new string('y', 10000));
        Assert.False(reader.TryReadToEnd(new ReadOnlySequence<byte>(chunk), out var consumed));
        Assert.Equal(chunk.Length, new ReadOnlySequence<byte>(chunk).Slice(0, consumed).Length);
        Assert.Equal(10000, draft.Length);
    }

    [Fact]
    public void OverTheLimitTheCountStopsAtTheLimitEvenInsideALine()
    {
        var body = string.Concat(Enumerable.Repeat(new string('x', 50) + "\r\n", 10));
        foreach (var max in new[] { 1, 49, 50, 51, 52, 53, 100, 4096 - 1, 4096 })
        {
            var wire = Encoding.ASCII.GetBytes(body + body + new string('z', 9000) + "\r\n.\r\n");
            foreach (var sequence in new[] { new ReadOnlySequence<byte>(wire), Segments.Variants(wire).Last() })
            {
                var (stored, _, reader) = Run(sequence, max);
                Assert.True(reader.TooLarge);
                Assert.Equal(max, reader.Length);
                // What reached the draft is a prefix (the draft of a 552 is thrown away).
                Assert.StartsWith(stored, body + body + new string('z', 9000));
                Assert.Equal(wire.Length, reader.WireLength);
            }
        }
    }

    [Fact]
    public void RandomInputGivesTheSameResultWholeAndByteByByte()
    {
        var random = new Random(5321);
        for (var round = 0; round < 500; round++)
        {
            var alphabet = "ab.\r\n";
            var wire = new byte[random.Next(0, 200)];
            for (var i = 0; i < wire.Length; i++)
            {
                wire[i] = (byte)alphabet[random.Next(alphabet.Length)];
            }
            wire = [.. wire, .. "\r\n.\r\nNEXT"u8];
            long max = random.Next(2) == 0 ? 1 << 20 : random.Next(0, 150);

            var (whole, wholeRest, wholeReader) = Run(new ReadOnlySequence<byte>(wire), max);

            var draft = new CapturingDraft();
            var reader = new DataReader(draft, max);
            var rest = "<incomplete>";
            for (var i = 0; i < wire.Length; i++)
            {
                if (reader.TryReadToEnd(new ReadOnlySequence<byte>(wire, i, 1), out var consumed))
                {
                    rest = Encoding.ASCII.GetString(wire.AsSpan(i + (consumed.GetInteger() - i)));
                    break;
                }
            }
            if (!wholeReader.TooLarge)
            {
                // Over the limit only a prefix reaches the draft, which is thrown away (552).
                Assert.Equal(whole, Encoding.ASCII.GetString(draft.Bytes.ToArray()));
                Assert.Equal(whole.Length, wholeReader.Length);
            }
            Assert.Equal(wholeReader.Length, reader.Length);
            Assert.Equal(wholeReader.TooLarge, reader.TooLarge);
            Assert.Equal(wholeReader.WireLength, reader.WireLength);
            Assert.Equal(wholeRest, rest);
        }
    }
}
