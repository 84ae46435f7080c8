using System.Buffers;

namespace Failmail.Smtp;

internal enum FrameResult
{
    Line,
    NeedMore,
    TooLong,
}

// Cuts command lines out of the input through a window of maxLine octets (Kestrel's
// TrimAndTakeStartLine, Bedrock's maximumMessageSize), so a line that never ends is never
// buffered: once the window is full without CRLF the line is reported TooLong once, and
// everything up to the next LF is thrown away, across as many reads as it takes.
internal sealed class CommandLineFramer(int maxLine)
{
    private bool _discarding;

    // Line: line is set and reader is past its CRLF. NeedMore: reader is where the
    // incomplete line starts (or at the end while discarding). TooLong: the caller answers 500.
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
        if (SmtpCommandParser.TryReadLine(ref lineReader, out line))
        {
            reader.Advance(lineReader.Consumed);
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
