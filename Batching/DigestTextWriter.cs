using System.Buffers;
using System.Text;

namespace Failmail.Batching;

// Writes a digest body straight to UTF-8 bytes with CRLF line ends: the bytes are exactly
// Encoding.UTF8.GetBytes(string.Concat(pieces).ReplaceLineEndings("\r\n")), without building
// either string (a digest of 1,000 groups is a megabyte of text, and each copy costs). Line
// ends are every sequence ReplaceLineEndings knows (CR, LF, CRLF, FF, NEL, LS, PS), also when
// a CR ends one piece and its LF starts the next; a surrogate pair split between two pieces
// is encoded as the pair, as in the joined string. Single owner, not thread-safe.
//
// The bytes go to the caller's stream in chunks of at most 12 KB; DigestBuilder gives it
// MimeKit's MemoryBlockStream (a list of small blocks) rather than one array: a digest of 30
// groups is 2 MB, and an array per digest put every digest of a hand-off wave on the large
// object heap, which the GC gave back too late (issue 11).
internal sealed class DigestTextWriter(Stream output)
{
    private const int ChunkChars = 4096;
    private static readonly SearchValues<char> LineEnds = SearchValues.Create("\r\n\f\u0085\u2028\u2029");

    private readonly Encoder _encoder = Encoding.UTF8.GetEncoder();
    private readonly char[] _chars = new char[ChunkChars];
    // UTF-8 needs at most 3 bytes per char (a pair is 4 bytes for 2), plus a held surrogate.
    private readonly byte[] _bytes = new byte[ChunkChars * 3 + 4];
    private int _count;
    private bool _afterCr;

    public void Append(char c) => Append(new ReadOnlySpan<char>(in c));

    public void Append(string? text) => Append(text.AsSpan());

    public void Append(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            if (_afterCr && text[0] == '\n')
            {
                text = text[1..]; // the LF of a CRLF whose CR ended the last piece
                _afterCr = false;
                continue;
            }
            _afterCr = false;
            var end = text.IndexOfAny(LineEnds);
            var plain = end < 0 ? text : text[..end];
            Put(plain);
            if (end < 0)
            {
                return;
            }
            Put("\r\n");
            var isCr = text[end] == '\r';
            if (isCr && end + 1 < text.Length && text[end + 1] == '\n')
            {
                end++;
            }
            else if (isCr)
            {
                _afterCr = end + 1 == text.Length;
            }
            text = text[(end + 1)..];
        }
    }

    // Writes what is still held; the writer is done after this.
    public void Finish() => Encode(flush: true);

    private void Put(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            if (_count == _chars.Length)
            {
                Encode(flush: false);
            }
            var n = Math.Min(text.Length, _chars.Length - _count);
            text[..n].CopyTo(_chars.AsSpan(_count));
            _count += n;
            text = text[n..];
        }
    }

    private void Encode(bool flush)
    {
        var chars = _chars.AsSpan(0, _count);
        while (true)
        {
            _encoder.Convert(chars, _bytes, flush, out var used, out var written, out var completed);
            output.Write(_bytes, 0, written);
            chars = chars[used..];
            // Without flush the encoder may keep a high surrogate for the next chunk.
            if (chars.IsEmpty && (completed || !flush))
            {
                break;
            }
        }
        _count = 0;
    }
}
