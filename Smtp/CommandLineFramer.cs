using System.Buffers;

namespace Failmail.Smtp;

internal enum FrameResult
{
    Line,
    NeedMore,
    TooLong,
    BareLf,
}

// Cuts command lines out of the input through a window of maxLine octets (Kestrel's
// TrimAndTakeStartLine, Bedrock's maximumMessageSize), so a line that never ends is never
// buffered: once the window is full without CRLF the line is reported TooLong once, and
// everything up to the next LF is thrown away, across as many reads as it takes.
internal sealed class CommandLineFramer(int maxLine)
{
    private bool _discarding;

    // Line: line is set and reader is past its CRLF. NeedMore: reader is where the
    // incomplete line starts (or at the end while discarding). TooLong and BareLf: the caller
    // answers 500; the line is gone.
    public FrameResult TryRead(ref SequenceReader<byte> reader, out ReadOnlySequence<byte> line)
    {
        line = default;
        while (_discarding)
        {
            if (!reader.TryAdvanceToAny("\n"u8, advancePastDelimiter: true))
            {
                reader.AdvanceToEnd();
                return FrameResult.NeedMore;
            }
            _discarding = false;
        }
        // §4.5.3.1.4: the limit counts the CRLF.
        var window = reader.UnreadSequence.Slice(0, Math.Min(reader.Remaining, maxLine));
        var lineReader = new SequenceReader<byte>(window);
        if (lineReader.TryReadTo(out ReadOnlySequence<byte> withCr, (byte)'\n', advancePastDelimiter: true))
        {
            reader.Advance(lineReader.Consumed);
            // §2.3.8: commands end in CRLF. A bare LF gets an immediate 500 (as failmail's
            // "Parse error") instead of leaving the client waiting for an answer.
            if (withCr.Length == 0 || withCr.Slice(withCr.Length - 1).FirstSpan[0] != (byte)'\r')
            {
                return FrameResult.BareLf;
            }
            line = withCr.Slice(0, withCr.Length - 1);
            return FrameResult.Line;
        }
        if (window.Length < maxLine)
        {
            return FrameResult.NeedMore;
        }
        _discarding = true;
        reader.Advance(window.Length);
        return FrameResult.TooLong;
    }
}
