using System.Text;

namespace Failmail.Hosting;

// Pure parser for one HTTP/1.x request head (RFC 9112): request line, header fields, empty
// line. What the stats routes and the API need (method, path, query, Host, Origin,
// Authorization, the body's length); anything outside the grammar is
// Invalid (400), a head that does not end within MaxHeadBytes is TooLarge (431).
internal static class HttpRequestParser
{
    // Kestrel's default MaxRequestHeadersTotalSize is 32 KB; a scraper or a health probe sends
    // a few hundred bytes.
    public const int MaxHeadBytes = 8192;

    public static HttpParseStatus TryParse(ReadOnlySpan<byte> buffer, out HttpRequestHead head, out int consumed)
    {
        head = default;
        consumed = 0;
        var window = buffer[..Math.Min(buffer.Length, MaxHeadBytes)];
        var end = window.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return window.Length == MaxHeadBytes ? HttpParseStatus.TooLarge : HttpParseStatus.Incomplete;
        }
        consumed = end + 4;
        var lines = window[..(end + 2)];

        var lineEnd = lines.IndexOf("\r\n"u8);
        if (!TryParseRequestLine(lines[..lineEnd], out var method, out var path, out var query, out var http11))
        {
            return HttpParseStatus.Invalid;
        }
        lines = lines[(lineEnd + 2)..];

        // HTTP/1.0 closes after each response; HTTP/1.1 keeps the connection unless asked not to.
        var keepAlive = http11;
        var hasBody = false;
        var contentLength = 0L;
        string? host = null;
        string? origin = null;
        string? authorization = null;
        while (!lines.IsEmpty)
        {
            lineEnd = lines.IndexOf("\r\n"u8);
            var line = lines[..lineEnd];
            lines = lines[(lineEnd + 2)..];
            var colon = line.IndexOf((byte)':');
            // RFC 9112 §5.1: no whitespace before the colon; §5.2: obs-fold may be rejected.
            if (colon <= 0 || !IsToken(line[..colon]))
            {
                return HttpParseStatus.Invalid;
            }
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                keepAlive &= !ContainsToken(value, "close"u8);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                // RFC 9112 §6.3: digits only; a second, different length is an error.
                if (!TryParseLength(value, out var length) || (contentLength != 0 && contentLength != length))
                {
                    return HttpParseStatus.Invalid;
                }
                contentLength = contentLength < 0 ? contentLength : length;
                hasBody |= length != 0;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                hasBody = true;
                contentLength = -1;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Host"u8))
            {
                host = Text(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Origin"u8))
            {
                origin = Text(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Authorization"u8))
            {
                authorization = Text(value);
            }
        }
        head = new HttpRequestHead(method, path, keepAlive && !hasBody, hasBody)
        {
            Query = query,
            ContentLength = contentLength,
            Host = host,
            Origin = origin,
            Authorization = authorization,
        };
        return HttpParseStatus.Complete;
    }

    // method SP request-target SP HTTP-version (RFC 9112 §3); origin-form targets only.
    private static bool TryParseRequestLine(ReadOnlySpan<byte> line, out string method, out string path, out string? query, out bool http11)
    {
        method = "";
        path = "";
        query = null;
        http11 = false;
        var space = line.IndexOf((byte)' ');
        if (space <= 0 || !IsToken(line[..space]))
        {
            return false;
        }
        var methodBytes = line[..space];
        var rest = line[(space + 1)..];
        space = rest.IndexOf((byte)' ');
        if (space <= 0 || rest[0] != (byte)'/')
        {
            return false;
        }
        var target = rest[..space];
        var version = rest[(space + 1)..];
        if (version.SequenceEqual("HTTP/1.1"u8))
        {
            http11 = true;
        }
        else if (!version.SequenceEqual("HTTP/1.0"u8))
        {
            return false;
        }
        foreach (var b in target)
        {
            // Visible ASCII only (RFC 3986 characters; no controls, no spaces, no 8-bit).
            if (b is <= 0x20 or >= 0x7f)
            {
                return false;
            }
        }
        var queryStart = target.IndexOfAny((byte)'?', (byte)'#');
        method = Encoding.ASCII.GetString(methodBytes);
        path = Encoding.ASCII.GetString(queryStart < 0 ? target : target[..queryStart]);
        if (queryStart >= 0 && target[queryStart] == '?')
        {
            var after = target[(queryStart + 1)..];
            var fragment = after.IndexOf((byte)'#');
            query = Encoding.ASCII.GetString(fragment < 0 ? after : after[..fragment]);
        }
        return true;
    }

    private static bool TryParseLength(ReadOnlySpan<byte> value, out long length)
    {
        length = 0;
        if (value.IsEmpty || value.Length > 15)
        {
            return false;
        }
        foreach (var b in value)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
            length = length * 10 + (b - '0');
        }
        return true;
    }

    // A field value as text: visible ASCII is kept, anything else becomes '?'.
    private static string Text(ReadOnlySpan<byte> value) =>
        string.Create(value.Length, value.ToArray(), static (chars, bytes) =>
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                chars[i] = bytes[i] is >= 0x20 and < 0x7f ? (char)bytes[i] : '?';
            }
        });

    // token = 1*tchar (RFC 9110 §5.6.2)
    private static bool IsToken(ReadOnlySpan<byte> span)
    {
        foreach (var b in span)
        {
            var ok = b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
                || "!#$%&'*+-.^_`|~"u8.Contains(b);
            if (!ok)
            {
                return false;
            }
        }
        return !span.IsEmpty;
    }

    // A comma-separated list element, case-insensitive (RFC 9110 §5.6.1).
    private static bool ContainsToken(ReadOnlySpan<byte> list, ReadOnlySpan<byte> token)
    {
        while (!list.IsEmpty)
        {
            var comma = list.IndexOf((byte)',');
            var element = (comma < 0 ? list : list[..comma]).Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(element, token))
            {
                return true;
            }
            list = comma < 0 ? [] : list[(comma + 1)..];
        }
        return false;
    }
}
