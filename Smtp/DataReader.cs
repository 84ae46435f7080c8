using System.Buffers;
using Failmail.Maildir;

namespace Failmail.Smtp;

// Reads the DATA payload (RFC 5321 §4.1.1.4) as a byte state machine, so nothing is
// buffered between reads and segment boundaries cannot matter:
// - only CRLF "." CRLF ends the data (§4.1.1.4 forbids bare-LF variants: SMTP smuggling);
// - one leading dot is removed from a line that starts after a CRLF (§4.5.2);
// - a bare LF or bare CR is stored as CRLF, so the stored message has canonical line ends
//   and no downstream parser can disagree about where a line ends;
// - past maxSize nothing more is written; the caller answers 552 once the end is seen.
// An IOException from the draft stops the writing too; the rest is drained and the caller
// answers 451/452.
internal sealed class DataReader
{
    private enum State
    {
        LineStart,
        Middle,
        CrSeen,
        DotAtStart,
        DotCr,
    }

    private const int ChunkSize = 4096;

    private readonly IMessageDraft? _draft;
    private readonly long _maxSize;
    // Rented: one reader per message, and with one connection per message (smtp-source,
    // cron mail) a fresh 4 KB array each time was the receiver's largest allocation.
    // Returned when the terminator is seen; a reader abandoned mid-DATA leaves it to the GC.
    private byte[] _chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
    private int _chunkLength;
    private State _state = State.LineStart;

    public DataReader(IMessageDraft? draft, long maxSize)
    {
        _draft = draft;
        _maxSize = maxSize;
    }

    // Bytes of message content after unstuffing and normalisation (counted up to the limit).
    public long Length { get; private set; }
    // Octets received on the wire, terminator included.
    public long WireLength { get; private set; }
    public bool TooLarge { get; private set; }
    public IOException? WriteError { get; private set; }
    public bool Completed { get; private set; }

    // Consumes bytes up to and including the terminator. Returns true once it was seen;
    // consumed is then the position just after it, otherwise the end of the buffer.
    public bool TryReadToEnd(in ReadOnlySequence<byte> buffer, out SequencePosition consumed)
    {
        consumed = buffer.End;
        if (Completed)
        {
            consumed = buffer.Start;
            return true;
        }
        long offset = 0;
        foreach (var memory in buffer)
        {
            var span = memory.Span;
            for (var i = 0; i < span.Length; i++)
            {
                if (_state == State.Middle)
                {
                    // Inside a line only CR and LF matter: copy up to the next one in bulk,
                    // exactly what Step would emit byte by byte.
                    var run = span[i..].IndexOfAny((byte)'\r', (byte)'\n');
                    if (run < 0)
                    {
                        run = span.Length - i;
                    }
                    EmitRun(span.Slice(i, run));
                    i += run;
                    if (i == span.Length)
                    {
                        break;
                    }
                }
                if (Step(span[i]))
                {
                    Flush();
                    ArrayPool<byte>.Shared.Return(_chunk);
                    _chunk = [];
                    WireLength += offset + i + 1;
                    consumed = buffer.GetPosition(offset + i + 1);
                    Completed = true;
                    return true;
                }
            }
            offset += span.Length;
        }
        WireLength += offset;
        Flush();
        return false;
    }

    // Returns true when b completed CRLF.CRLF.
    private bool Step(byte b)
    {
        switch (_state)
        {
            case State.LineStart:
                if (b == (byte)'.')
                {
                    _state = State.DotAtStart;
                    return false;
                }
                return Middle(b);
            case State.DotAtStart:
                if (b == (byte)'\r')
                {
                    _state = State.DotCr;
                    return false;
                }
                return Middle(b);
            case State.DotCr:
                if (b == (byte)'\n')
                {
                    return true;
                }
                // ".<CR>x": the bare CR becomes a line end, then x is ordinary content.
                Emit((byte)'\r');
                Emit((byte)'\n');
                _state = State.Middle;
                return Middle(b);
            case State.CrSeen:
                if (b == (byte)'\n')
                {
                    Emit((byte)'\r');
                    Emit((byte)'\n');
                    _state = State.LineStart;
                    return false;
                }
                Emit((byte)'\r');
                Emit((byte)'\n');
                _state = State.Middle;
                return Middle(b);
            default:
                return Middle(b);
        }
    }

    private bool Middle(byte b)
    {
        switch (b)
        {
            case (byte)'\r':
                _state = State.CrSeen;
                break;
            case (byte)'\n':
                // A bare LF is stored as CRLF but does not start a line on the wire: only a
                // CRLF can precede the terminator or a stuffed dot.
                Emit((byte)'\r');
                Emit((byte)'\n');
                _state = State.Middle;
                break;
            default:
                Emit(b);
                _state = State.Middle;
                break;
        }
        return false;
    }

    private void Emit(byte b)
    {
        if (TooLarge)
        {
            return;
        }
        if (Length >= _maxSize)
        {
            TooLarge = true;
            return;
        }
        Length++;
        _chunk[_chunkLength++] = b;
        if (_chunkLength == ChunkSize)
        {
            Flush();
        }
    }

    // Emit for each byte of run, in chunk-sized copies.
    private void EmitRun(ReadOnlySpan<byte> run)
    {
        while (run.Length > 0 && !TooLarge)
        {
            if (Length >= _maxSize)
            {
                TooLarge = true;
                return;
            }
            var count = (int)Math.Min(Math.Min(run.Length, ChunkSize - _chunkLength), _maxSize - Length);
            run[..count].CopyTo(_chunk.AsSpan(_chunkLength));
            _chunkLength += count;
            Length += count;
            run = run[count..];
            if (_chunkLength == ChunkSize)
            {
                Flush();
            }
        }
    }

    private void Flush()
    {
        if (_chunkLength == 0)
        {
            return;
        }
        var length = _chunkLength;
        _chunkLength = 0;
        if (_draft is null || WriteError is not null || TooLarge)
        {
            return;
        }
        try
        {
            _draft.Write(_chunk.AsSpan(0, length));
        }
        catch (IOException e)
        {
            WriteError = e;
        }
    }
}
