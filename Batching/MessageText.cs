using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;

namespace Failmail.Batching;

// What a digest shows of a message: its subject and its decoded text body. failmail pasted
// the raw body (base64, quoted-printable, multipart boundaries, HTML: spec §10.15); we decode
// with MimeKit and never throw, so a broken message still gets into its digest.
internal static partial class MessageText
{
    // Bodies larger than this are cut, with a note.
    public const int MaxBodyChars = 64 * 1024;
    public const string NoTextBody = "[no text body]";

    // Cut to HeaderText.MaxBytes: a subject is a key, a digest Subject and a line in digests.
    public static string Subject(MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            return HeaderText.Cut(message.Subject ?? "");
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException)
        {
            return "";
        }
    }

    public static string Body(MimeMessage message, int maxChars = MaxBodyChars)
    {
        ArgumentNullException.ThrowIfNull(message);
        string? text = null;
        try
        {
            text = message.TextBody;
            if (text is null && message.HtmlBody is { } html)
            {
                text = StripHtml(html);
            }
            text ??= FirstTextPart(message.Body);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException or InvalidOperationException or DecoderFallbackException)
        {
            // An unknown charset or broken encoding: show the part's bytes as Latin-1.
            text = RawText(message.Body);
        }
        return text is null ? NoTextBody : Shown(text, maxChars);
    }

    // Body of the stored bytes without MimeKit, when they are the plainest message: a plain
    // header block (HeaderBlock) with no Content-* header at all, so MimeKit's defaults hold
    // (text/plain, us-ascii, 7bit), and a body of ASCII without NUL whose CRs are all in CRLF.
    // Then MimeKit's TextBody is the body bytes as they are. Otherwise false: use Body.
    public static bool TryPlainBody(byte[] message, List<HeaderSpan> headers, out string body, int maxChars = MaxBodyChars) =>
        TryPlainBody(message, message?.Length ?? 0, headers, out body, maxChars);

    // The message is the first `length` bytes of `message` (a reused read buffer).
    public static bool TryPlainBody(byte[] message, int length, List<HeaderSpan> headers, out string body, int maxChars = MaxBodyChars)
    {
        ArgumentNullException.ThrowIfNull(message);
        body = "";
        if (!HeaderBlock.TryParse(message.AsSpan(0, length), headers, out var start))
        {
            return false;
        }
        foreach (var header in headers)
        {
            if (header.FieldLength >= 8 && Ascii.EqualsIgnoreCase(message.AsSpan(header.FieldStart, 8), "Content-"u8))
            {
                return false;
            }
        }
        var bytes = message.AsSpan(start, length - start);
        if (bytes.IndexOfAnyExceptInRange((byte)1, (byte)0x7F) >= 0)
        {
            return false;
        }
        for (var i = bytes.IndexOfAny((byte)'\r', (byte)'\n'); i >= 0; i = NextLineEnd(bytes, i + 2))
        {
            if (bytes[i] != '\r' || i + 1 >= bytes.Length || bytes[i + 1] != '\n')
            {
                return false;
            }
        }
        // Only what is shown is decoded (a 10 MB body for each of 100 digests was 100 strings of
        // 20 MB, twice over). Every CR is in a CRLF, which becomes one \n; FF becomes \n too;
        // so the text has as many characters as bytes, less one per CRLF. Each character takes
        // at most two bytes, and a CR at the end of the head ends a line either way.
        var total = bytes.Length - bytes.Count("\r\n"u8);
        var head = Encoding.ASCII.GetString(bytes[..Math.Min(bytes.Length, 2 * maxChars + 2)]).ReplaceLineEndings("\n");
        body = total > maxChars ? Truncated(head, maxChars, total) : head;
        return true;
    }

    private static int NextLineEnd(ReadOnlySpan<byte> bytes, int from)
    {
        if (from >= bytes.Length)
        {
            return -1;
        }
        var i = bytes[from..].IndexOfAny((byte)'\r', (byte)'\n');
        return i < 0 ? -1 : from + i;
    }

    // Line ends as \n, cut at maxChars with a note.
    private static string Shown(string text, int maxChars)
    {
        text = text.ReplaceLineEndings("\n");
        return text.Length > maxChars ? Truncated(text, maxChars, text.Length) : text;
    }

    // The first maxChars of a text of total characters (never half a surrogate pair), and a note.
    private static string Truncated(string text, int maxChars, int total)
    {
        var cut = maxChars;
        if (char.IsHighSurrogate(text[cut - 1]))
        {
            cut--;
        }
        return string.Concat(text.AsSpan(0, cut), $"\n[body truncated: {total - cut} more characters]\n");
    }

    private static string? FirstTextPart(MimeEntity? entity)
    {
        foreach (var part in entity is null ? Enumerable.Empty<MimeEntity>() : new[] { entity }.Concat(entity is Multipart m ? m.Cast<MimeEntity>() : Enumerable.Empty<MimeEntity>()))
        {
            if (part is TextPart text)
            {
                return text.IsHtml ? StripHtml(text.Text) : text.Text;
            }
        }
        return null;
    }

    private static string? RawText(MimeEntity? entity)
    {
        if (entity is not MimePart part || part.Content is null)
        {
            return null;
        }
        try
        {
            using var stream = new MemoryStream();
            part.Content.DecodeTo(stream);
            return Encoding.Latin1.GetString(stream.GetBuffer(), 0, (int)Math.Min(stream.Length, MaxBodyChars * 2L));
        }
        catch (Exception e) when (e is IOException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }

    // Crude on purpose: alert HTML is simple. Drops script/style, turns block ends into line
    // breaks, removes tags, decodes entities.
    public static string StripHtml(string html)
    {
        ArgumentNullException.ThrowIfNull(html);
        var text = ScriptRegex().Replace(html, "");
        text = BreakRegex().Replace(text, "\n");
        text = TagRegex().Replace(text, "");
        text = WebUtility.HtmlDecode(text);
        return BlankLinesRegex().Replace(text, "\n\n").Trim('\n', ' ', '\r', '\t');
    }

    [GeneratedRegex(@"<(script|style)\b.*?</\1\s*>", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex ScriptRegex();

    [GeneratedRegex(@"<br\s*/?>|</(p|div|tr|li|h[1-6]|table|pre)\s*>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex BreakRegex();

    [GeneratedRegex(@"<[^>]*>", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex TagRegex();

    [GeneratedRegex(@"\n[ \t\r]*\n([ \t\r]*\n)+", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex BlankLinesRegex();
}
