using System.Text;
using MimeKit;
using MimeKit.Utils;

namespace Failmail.Batching;

// The headers of a stored message split by HeaderBlock, answering what the batcher asks of
// a MimeMessage with the same results: MessageVariables' header values, MimeKit's Subject,
// the marker of a digest. Like MimeMessage.Headers it does not see Content-* headers (MimeKit
// gives them to the body part). Holds the bytes and the span list it is given; no copies.
internal readonly struct MessageHead
{
    private readonly byte[] _message;
    private readonly List<HeaderSpan> _headers;

    public MessageHead(byte[] message, List<HeaderSpan> headers)
    {
        _message = message ?? throw new ArgumentNullException(nameof(message));
        _headers = headers ?? throw new ArgumentNullException(nameof(headers));
    }

    // False when the message needs MimeKit's full parser (see HeaderBlock).
    public static bool TryParse(byte[] message, List<HeaderSpan> headers, out MessageHead head) =>
        TryParse(message, message?.Length ?? 0, headers, out head);

    // The message is the first `length` bytes of `message` (a reused read buffer).
    public static bool TryParse(byte[] message, int length, List<HeaderSpan> headers, out MessageHead head)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (HeaderBlock.TryParse(message.AsSpan(0, length), headers, out _))
        {
            head = new MessageHead(message, headers);
            return true;
        }
        head = default;
        return false;
    }

    public bool Contains(string name) => IndexOf(name) >= 0;

    // What MessageVariables' headers[name] holds: the first header of that name, matched
    // case-insensitively as DotLiquid's Hash does; null when there is none.
    public string? Get(string name)
    {
        var index = IndexOf(name);
        return index < 0 ? null : MessageVariables.HeaderValue(Value(_headers[index]));
    }

    // MimeMessage.Subject: the first Subject header's Header.Value, "" when there is none; cut
    // as MessageText.Subject cuts it (HeaderText), reading only the raw value's head.
    public string Subject()
    {
        var index = IndexOf("Subject");
        if (index < 0)
        {
            return "";
        }
        var span = _headers[index];
        var raw = HeaderText.CutRaw(Value(span), out var wasCut);
        if (MessageVariables.TryPlainValue(raw, out var plain))
        {
            return HeaderText.Cut(plain, wasCut);
        }
        try
        {
            return HeaderText.Cut(Header.Unfold(Rfc2047.DecodeText(ParserOptions.Default, _message, span.ValueStart, raw.Length)), wasCut);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException)
        {
            return ""; // as MessageText.Subject
        }
    }

    // (name as sent, MessageVariables.HeaderValue) for MessageVariables.Build.
    public List<KeyValuePair<string, string>> Values()
    {
        var values = new List<KeyValuePair<string, string>>(_headers.Count);
        foreach (var span in _headers)
        {
            if (!IsContentHeader(span))
            {
                // A name over the limit is cut too; reading one byte past it tells Cut so.
                var name = Encoding.ASCII.GetString(_message, span.FieldStart, Math.Min(span.FieldLength, HeaderText.MaxBytes + 1));
                values.Add(new(HeaderText.Cut(name), MessageVariables.HeaderValue(Value(span))));
            }
        }
        return values;
    }

    private ReadOnlySpan<byte> Value(HeaderSpan span) => _message.AsSpan(span.ValueStart, span.ValueLength);

    private int IndexOf(string name)
    {
        for (var i = 0; i < _headers.Count; i++)
        {
            var span = _headers[i];
            if (Ascii.EqualsIgnoreCase(_message.AsSpan(span.FieldStart, span.FieldLength), name) && !IsContentHeader(span))
            {
                return i;
            }
        }
        return -1;
    }

    private bool IsContentHeader(HeaderSpan span) =>
        span.FieldLength >= 8 && Ascii.EqualsIgnoreCase(_message.AsSpan(span.FieldStart, 8), "Content-"u8);
}
