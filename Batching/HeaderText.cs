using System.Text;

namespace Failmail.Batching;

// The one length limit on header text the batcher keeps: keys, subjects, template variables
// and the digest's own Subject. RFC 5322 §2.1.1 allows 998 octets per line, so no sane header
// value is longer; a hostile one (a 1 MB Subject) is cut here, once, instead of being copied
// into every key, group, digest Subject, digest body and queued digest of every recipient.
// The stored message is never changed: only what the batcher derives from it is cut.
internal static class HeaderText
{
    // RFC 5322 §2.1.1: "Each line of characters MUST be no more than 998 characters".
    public const int MaxBytes = 998;

    // Appended to a cut value, so a reader sees that there was more.
    public const string CutMarker = "…";

    // How much of a raw (encoded, folded) value is worth decoding: base64 encoded-words take 4
    // octets for 3, quoted-printable up to 3 for 1, and each encoded-word and fold adds ~15
    // octets per 75 (under 4x in all). Past this the decoded text is over MaxBytes anyway.
    public const int MaxRawBytes = 8 * MaxBytes;

    private static readonly int MarkerBytes = Encoding.UTF8.GetByteCount(CutMarker);

    // value itself when its UTF-8 form fits MaxBytes; else its longest prefix that fits with
    // the marker, cut between characters (never inside a surrogate pair), plus the marker.
    // wasCut: the caller already dropped a tail (a raw value cut before decoding), so the
    // marker is due even when what is left fits.
    public static string Cut(string value, bool wasCut = false)
    {
        ArgumentNullException.ThrowIfNull(value);
        // A UTF-16 char is at most 3 UTF-8 bytes (a pair is 4 for 2): a short string fits.
        if (!wasCut && (value.Length * 3 <= MaxBytes || Encoding.UTF8.GetByteCount(value) <= MaxBytes))
        {
            return value;
        }
        var budget = MaxBytes - MarkerBytes;
        var bytes = 0;
        var end = 0;
        while (end < value.Length)
        {
            var c = value[end];
            var width = char.IsHighSurrogate(c) && end + 1 < value.Length && char.IsLowSurrogate(value[end + 1]) ? 2 : 1;
            // A lone surrogate is encoded as U+FFFD (3 bytes), like Encoding.UTF8 does.
            var size = width == 2 ? 4 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
            if (bytes + size > budget)
            {
                break;
            }
            bytes += size;
            end += width;
        }
        return string.Concat(value.AsSpan(0, end), CutMarker);
    }

    // The part of a raw header value worth decoding (MaxRawBytes), and whether a tail was
    // dropped; never inside a UTF-8 sequence, so raw 8-bit text still decodes as UTF-8 (a
    // broken last sequence would send the whole value to the Latin-1 fallback).
    public static ReadOnlySpan<byte> CutRaw(ReadOnlySpan<byte> raw, out bool wasCut)
    {
        wasCut = raw.Length > MaxRawBytes;
        if (!wasCut)
        {
            return raw;
        }
        var end = MaxRawBytes;
        // Back up over continuation bytes (10xxxxxx) to the start of the sequence they follow.
        for (var i = 0; i < 3 && end > 0 && (raw[end] & 0xC0) == 0x80; i++)
        {
            end--;
        }
        return raw[..end];
    }
}
