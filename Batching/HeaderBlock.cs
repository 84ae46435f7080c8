namespace Failmail.Batching;

// Splits the header block of a stored message without MimeKit, for the batcher's hot path
// (most alert mail needs only a header or two for its keys). It accepts only the plain shape
// on which MimeKit's parser has no choices to make: "Name: value" lines (name of printable
// ASCII, no space, colon right after it), folded lines that start with SP or HT and hold more
// than whitespace, CRLF line ends, no NUL, and an empty line that ends the block. Anything
// else (a BOM, an mbox "From " line, a line without a colon, a bare CR or LF, no body
// separator) returns false, and the caller parses the whole message with MimeKit as before.
//
// A header's value span is what MimeKit keeps as Header.RawValue: everything after the
// colon up to and including the CRLF that ends its last line.
internal static class HeaderBlock
{
    public static bool TryParse(ReadOnlySpan<byte> message, List<HeaderSpan> headers, out int bodyStart)
    {
        ArgumentNullException.ThrowIfNull(headers);
        headers.Clear();
        bodyStart = 0;
        var i = 0;
        while (true)
        {
            if (i + 1 < message.Length && message[i] == '\r' && message[i + 1] == '\n')
            {
                bodyStart = i + 2;
                return headers.Count > 0;
            }
            var fieldStart = i;
            while (i < message.Length && message[i] is > 0x20 and < 0x7F and not (byte)':')
            {
                i++;
            }
            if (i == fieldStart || i >= message.Length || message[i] != ':')
            {
                return false;
            }
            var fieldLength = i - fieldStart;
            var valueStart = ++i;
            while (true)
            {
                var end = message[i..].IndexOfAny((byte)'\r', (byte)'\n', (byte)0);
                if (end < 0)
                {
                    return false; // no line end: no body separator either
                }
                i += end;
                if (message[i] != '\r' || i + 1 >= message.Length || message[i + 1] != '\n')
                {
                    return false;
                }
                i += 2;
                if (i >= message.Length || message[i] is not ((byte)' ' or (byte)'\t'))
                {
                    break;
                }
                var fold = i;
                while (fold < message.Length && message[fold] is (byte)' ' or (byte)'\t')
                {
                    fold++;
                }
                if (fold >= message.Length || message[fold] is (byte)'\r' or (byte)'\n')
                {
                    return false; // a whitespace-only line: MimeKit's choice, not ours
                }
            }
            headers.Add(new HeaderSpan(fieldStart, fieldLength, valueStart, i - valueStart));
        }
    }
}
