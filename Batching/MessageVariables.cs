using System.Buffers;
using DotLiquid;
using Failmail.Maildir;
using MimeKit;
using MimeKit.Utils;

namespace Failmail.Batching;

// The DotLiquid variables --batch-expr and --group-expr see for one message (docs/TEMPLATES.md):
// headers, subject, from, to, date, body, envelope.from, envelope.to. Only Hash, strings and
// lists: no reflection over our types (native AOT).
//
// headers: every header by lowercased name, by Go's canonical name (X-Failmail-Split) and by
// the name as sent; the first occurrence wins, like Go's Header.Get. Values are unfolded and
// RFC 2047-decoded by MimeKit (failmail's Go code saw the raw encoded words).
internal static class MessageVariables
{
    public static Hash Build(MimeMessage message, Envelope? envelope, bool includeBody)
    {
        ArgumentNullException.ThrowIfNull(message);
        var headers = new List<KeyValuePair<string, string>>(message.Headers.Count);
        foreach (var header in message.Headers)
        {
            headers.Add(new(HeaderText.Cut(header.Field), HeaderValue(header)));
        }
        return Build(headers, envelope, includeBody ? MessageText.Body(message) : "");
    }

    // headers: (name as sent, HeaderValue) in message order, without the Content-* headers
    // (MimeKit gives those to the body part, not to MimeMessage.Headers).
    public static Hash Build(IReadOnlyList<KeyValuePair<string, string>> headerValues, Envelope? envelope, string body)
    {
        ArgumentNullException.ThrowIfNull(headerValues);
        var headers = new Hash();
        foreach (var (field, value) in headerValues)
        {
            foreach (var name in Names(field))
            {
                if (!headers.ContainsKey(name))
                {
                    headers[name] = value;
                }
            }
        }
        var variables = new Hash
        {
            ["headers"] = headers,
            ["subject"] = Get(headers, "subject"),
            ["from"] = Get(headers, "from"),
            ["to"] = Get(headers, "to"),
            ["date"] = Get(headers, "date"),
            ["body"] = body,
        };
        var env = new Hash
        {
            ["from"] = envelope?.From ?? "",
            ["to"] = envelope is null ? new List<object>() : envelope.Recipients.Cast<object>().ToList(),
        };
        variables["envelope"] = env;
        return variables;
    }

    // Go's textproto unfolding (each fold becomes one space, the ends are trimmed), then
    // RFC 2047 decoding; 8-bit bytes decode as UTF-8, else Latin-1 (MimeKit's fallback). Cut
    // to HeaderText.MaxBytes: only the first HeaderText.MaxRawBytes of the raw value are read.
    public static string HeaderValue(Header header)
    {
        ArgumentNullException.ThrowIfNull(header);
        return HeaderValue(header.RawValue);
    }

    public static string HeaderValue(ReadOnlySpan<byte> raw)
    {
        raw = HeaderText.CutRaw(raw, out var wasCut);
        if (TryPlainValue(raw, out var plain))
        {
            return HeaderText.Cut(plain, wasCut);
        }
        var rented = raw.Length > 512 ? ArrayPool<byte>.Shared.Rent(raw.Length) : null;
        Span<byte> unfolded = rented ?? stackalloc byte[512];
        var count = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            var b = raw[i];
            if (b is (byte)'\r' or (byte)'\n')
            {
                while (count > 0 && unfolded[count - 1] is (byte)' ' or (byte)'\t')
                {
                    count--;
                }
                while (i + 1 < raw.Length && raw[i + 1] is (byte)'\r' or (byte)'\n' or (byte)' ' or (byte)'\t')
                {
                    i++;
                }
                if (count > 0 && i + 1 < raw.Length)
                {
                    unfolded[count++] = (byte)' ';
                }
                continue;
            }
            unfolded[count++] = b;
        }
        try
        {
            return HeaderText.Cut(Decode(unfolded[..count]), wasCut);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static string Decode(ReadOnlySpan<byte> unfolded)
    {
        var bytes = unfolded.ToArray();
        try
        {
            return Rfc2047.DecodeText(ParserOptions.Default, bytes).Trim();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException)
        {
            return System.Text.Encoding.Latin1.GetString(bytes).Trim();
        }
    }

    // The common value: one line of printable ASCII (and tabs) without "=?". Unfolding,
    // RFC 2047 decoding and MimeKit's Header.Value all leave it as it is, less the blanks at
    // its ends, so it needs none of them.
    public static bool TryPlainValue(ReadOnlySpan<byte> raw, out string value)
    {
        value = "";
        if (raw.EndsWith("\r\n"u8))
        {
            raw = raw[..^2];
        }
        foreach (var b in raw)
        {
            if (b is not ((>= 0x20 and <= 0x7E) or (byte)'\t'))
            {
                return false;
            }
        }
        if (raw.IndexOf("=?"u8) >= 0)
        {
            return false;
        }
        value = System.Text.Encoding.ASCII.GetString(raw.Trim(" \t"u8));
        return true;
    }

    // An empty message, for validating expressions at start-up.
    public static Hash Sample() => Build(new MimeMessage(), null, includeBody: true);

    private static string Get(Hash headers, string name) => headers.TryGetValue(name, out var v) && v is string s ? s : "";

    private static IEnumerable<string> Names(string field)
    {
        yield return field.ToLowerInvariant();
        yield return CanonicalName(field);
        yield return field;
    }

    // Go's textproto.CanonicalMIMEHeaderKey: first letter and letters after '-' upper-cased.
    public static string CanonicalName(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        var chars = field.ToCharArray();
        var upper = true;
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = upper ? char.ToUpperInvariant(chars[i]) : char.ToLowerInvariant(chars[i]);
            upper = chars[i] == '-';
        }
        return new string(chars);
    }
}
