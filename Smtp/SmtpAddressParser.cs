using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Unicode;

namespace Failmail.Smtp;

// Paths and domains of RFC 5321 §4.1.2-4.1.3, lenient where failmail was needlessly strict.
internal static class SmtpAddressParser
{
    // RFC 5321 §4.1.2 atext, plus UTF-8 octets (RFC 6531) and '.', which is allowed anywhere
    // in the local part: real mailers send "first..last@" and rejecting it helps nobody.
    private static readonly SearchValues<byte> LocalChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~."u8);

    private static readonly SearchValues<byte> LabelChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"u8);

    // Parses "<...>" at the start of s: the null path "<>" (MAIL only), "<postmaster>"
    // (§4.1.1.3), or "<[@route,...:]local@domain>" with the source route dropped (§4.1.2).
    // allowBareName also takes a local name without a domain ("<root>"), which the session
    // accepts only from loopback clients (and the intake qualifies, as Postfix's
    // append_at_myorigin does).
    public static bool TryParsePath(ReadOnlySpan<byte> s, bool allowNull, out string address, out int used) =>
        TryParsePath(s, allowNull, allowBareName: false, out address, out used);

    public static bool TryParsePath(ReadOnlySpan<byte> s, bool allowNull, bool allowBareName, out string address, out int used)
    {
        address = "";
        used = 0;
        if (s.IsEmpty || s[0] != (byte)'<')
        {
            return false;
        }
        var i = 1;
        if (i < s.Length && s[i] == (byte)'>')
        {
            used = 2;
            return allowNull;
        }
        if (i < s.Length && s[i] == (byte)'@')
        {
            var colon = s.IndexOf((byte)':');
            if (colon < 0)
            {
                return false;
            }
            i = colon + 1;
        }
        var start = i;
        if (i < s.Length && s[i] == (byte)'"')
        {
            i++;
            // §4.1.2: qtextSMTP and quoted-pairSMTP are printable ASCII (and UTF-8, RFC 6531);
            // a CR, LF, TAB or other control octet, escaped or not, has no place in a mailbox
            // and could not be written into a header later.
            while (i < s.Length && s[i] != (byte)'"')
            {
                if (s[i] == (byte)'\\')
                {
                    i++;
                    if (i < s.Length && (s[i] < 32 || s[i] == 127))
                    {
                        return false;
                    }
                }
                else if (s[i] < 32 || s[i] == 127)
                {
                    return false;
                }
                i++;
            }
            if (i >= s.Length)
            {
                return false;
            }
            i++;
        }
        else
        {
            while (i < s.Length && (LocalChars.Contains(s[i]) || s[i] >= 0x80))
            {
                i++;
            }
        }
        if (i == start || i >= s.Length)
        {
            return false;
        }
        if (s[i] == (byte)'>')
        {
            // Only the special local part "postmaster" may come without a domain, unless the
            // caller takes bare names (never a quoted one: no header could carry it qualified).
            var bare = allowBareName && s[start] != (byte)'"';
            if (!bare && (!Ascii.EqualsIgnoreCase(s[start..i], "postmaster"u8) || allowNull))
            {
                return false;
            }
        }
        else
        {
            if (s[i] != (byte)'@')
            {
                return false;
            }
            var close = s[i..].IndexOf((byte)'>');
            if (close < 0 || !IsDomainOrLiteral(s[(i + 1)..(i + close)]))
            {
                return false;
            }
            i += close;
        }
        var mailbox = s[start..i];
        if (!Utf8.IsValid(mailbox))
        {
            return false;
        }
        address = Encoding.UTF8.GetString(mailbox);
        used = i + 1;
        return true;
    }

    // A domain (labels of letters, digits, '-' and '_', any of them first, optional final
    // dot, UTF-8 allowed for RFC 6531), a bare IP address, or an address literal
    // "[a.b.c.d]" / "[IPv6:...]" (§4.1.3).
    public static bool IsDomainOrLiteral(ReadOnlySpan<byte> s)
    {
        if (s.IsEmpty || s.Length > 255)
        {
            return false;
        }
        if (s[0] == (byte)'[')
        {
            if (s[^1] != (byte)']')
            {
                return false;
            }
            var inner = s[1..^1];
            if (inner.Length > 5 && Ascii.EqualsIgnoreCase(inner[..5], "IPv6:"u8))
            {
                return IPAddress.TryParse(inner[5..], out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6;
            }
            return IsDottedQuad(inner);
        }
        if (s.Contains((byte)':'))
        {
            return IPAddress.TryParse(s, out var bare) && bare.AddressFamily == AddressFamily.InterNetworkV6;
        }
        if (s[^1] == (byte)'.')
        {
            s = s[..^1];
        }
        foreach (var range in s.Split((byte)'.'))
        {
            var label = s[range];
            if (label.IsEmpty || label.Length > 63)
            {
                return false;
            }
            foreach (var b in label)
            {
                if (!LabelChars.Contains(b) && b < 0x80)
                {
                    return false;
                }
            }
        }
        return true;
    }

    private static bool IsDottedQuad(ReadOnlySpan<byte> s)
    {
        var parts = 0;
        foreach (var range in s.Split((byte)'.'))
        {
            var part = s[range];
            if (part.IsEmpty || part.Length > 3 || part.ContainsAnyExceptInRange((byte)'0', (byte)'9')
                || int.Parse(part, CultureInfo.InvariantCulture) > 255)
            {
                return false;
            }
            parts++;
        }
        return parts == 4;
    }
}
