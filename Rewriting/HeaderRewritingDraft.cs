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
    private readonly ArrayBufferWriter<byte> _header = new(4096);
    private bool _passThrough;

    public HeaderRewritingDraft(IMessageDraft inner, AddressRewriter rewriter)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(rewriter);
        _inner = inner;
        _rewriter = rewriter;
    }

    public long Length => _inner.Length + _header.WrittenCount;

    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (_passThrough)
        {
            _inner.Write(bytes);
            return;
        }
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
            Flush(_header.WrittenSpan, []);
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
        _header.Clear();
    }
}
