using System.Buffers;
using Failmail.Maildir;

namespace Failmail.Rewriting;

// A store draft that holds back the header section until the blank line that ends it (or
// the end of the message), rewrites its address fields through the AddressRewriter, then
// writes it and streams the body straight through. Only the headers are ever buffered, and
// at most MaxHeaderBytes of them: a longer header section is passed on unchanged.
internal sealed class HeaderRewritingDraft : IMessageDraft
{
    private const int MaxHeaderBytes = 256 * 1024;

    private readonly IMessageDraft _inner;
    private readonly AddressRewriter _rewriter;
    // Only made when the header section does not end within the first write; the SMTP
    // receiver hands over up to 4 KB at once, so most messages never need it.
    private ArrayBufferWriter<byte>? _header;
    private bool _passThrough;

    public HeaderRewritingDraft(IMessageDraft inner, AddressRewriter rewriter)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(rewriter);
        _inner = inner;
        _rewriter = rewriter;
    }

    public long Length => _inner.Length + (_header?.WrittenCount ?? 0);

    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (_passThrough)
        {
            _inner.Write(bytes);
            return;
        }
        if (_header is null || _header.WrittenCount == 0)
        {
            // Nothing held back yet: if the section ends within these bytes, rewrite it
            // from here without copying.
            var blankLine = bytes.IndexOf("\r\n\r\n"u8);
            var sectionEnd = bytes.StartsWith("\r\n"u8) ? 0 : blankLine < 0 ? -1 : blankLine + 2;
            if (sectionEnd >= 0)
            {
                Flush(bytes[..sectionEnd], bytes[sectionEnd..]);
                return;
            }
        }
        _header ??= new ArrayBufferWriter<byte>(4096);
        // Look for the end from 3 bytes back, in case CRLFCRLF straddles two writes.
        var searchFrom = Math.Max(0, _header.WrittenCount - 3);
        _header.Write(bytes);
        var written = _header.WrittenSpan;
        int end;
        if (written.StartsWith("\r\n"u8))
        {
            end = 0;
        }
        else
        {
            var blank = written[searchFrom..].IndexOf("\r\n\r\n"u8);
            end = blank < 0 ? -1 : searchFrom + blank + 2;
        }
        if (end >= 0)
        {
            Flush(written[..end], written[end..]);
        }
        else if (_header.WrittenCount > MaxHeaderBytes)
        {
            Flush([], written);
        }
    }

    public ValueTask<ReceivedMessage> CommitAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        if (!_passThrough)
        {
            // A message without a body: all of it is the header section.
            Flush(_header is null ? [] : _header.WrittenSpan, []);
        }
        return _inner.CommitAsync(envelope, cancellationToken);
    }

    public ValueTask DisposeAsync() => _inner.DisposeAsync();

    private void Flush(ReadOnlySpan<byte> section, ReadOnlySpan<byte> rest)
    {
        _passThrough = true;
        var rewritten = section.IsEmpty ? null : _rewriter.RewriteHeaders(section);
        _inner.Write(rewritten is null ? section : rewritten);
        _inner.Write(rest);
        _header?.Clear();
    }
}
