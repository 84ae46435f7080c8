using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using MimeKit;

namespace Failmail.Addresses;

// An envelope address (as the SMTP parser accepts it) as a MimeKit mailbox, for digest
// headers and the relay's MAIL FROM/RCPT TO. MimeKit is stricter than RFC 5321 §4.1.2 as
// real mail uses it: "a..b@y.test", ".a@y.test" and "a.@y.test" are not dot-atoms, so MimeKit
// refuses them, although mailers send them. Such a local part is written quoted
// ("a..b"@y.test), which is the same mailbox (§4.1.2: a quoted local part whose unquoted form
// is not a Dot-string must stay quoted), as Postfix's smtp client quotes it; a bare IPv6 domain
// becomes the literal [IPv6:...] (§4.1.3). Everything here is pure and never throws.
internal static class EnvelopeMailbox
{
    // RFC 5321 §4.1.2 atext and '.'.
    private static readonly System.Buffers.SearchValues<char> DotAtomChars =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~.");

    // "" is the null sender (MAIL FROM:<>, RFC 5321 §4.5.5).
    public static bool TryCreate(string address, [NotNullWhen(true)] out MailboxAddress? mailbox)
    {
        ArgumentNullException.ThrowIfNull(address);
        mailbox = null;
        if (address.Length == 0)
        {
            mailbox = new MailboxAddress("", "");
            return true;
        }
        if (address.AsSpan().ContainsAny('\r', '\n') || address.AsSpan().ContainsAny('\0', '\t'))
        {
            return false;
        }
        if (MailboxAddress.TryParse(ParserOptions.Default, address, out var parsed) && parsed is not null && IsSame(parsed, address))
        {
            mailbox = parsed;
            return true;
        }
        if (Carried(address) is not { } carried)
        {
            return false;
        }
        if (MailboxAddress.TryParse(ParserOptions.Default, carried, out parsed) && parsed is not null && string.IsNullOrEmpty(parsed.Name))
        {
            mailbox = parsed;
            return true;
        }
        return false;
    }

    public static bool CanCarry(string address) => TryCreate(address, out _);

    // Throws FormatException naming the address: for the places (digest building, the relay
    // envelope) where an uncarriable address means the batch itself is bad.
    public static MailboxAddress Create(string address) =>
        TryCreate(address, out var mailbox) ? mailbox : throw new FormatException($"address cannot be carried in a mail header: {Printable(address)}");

    // The address with control characters shown as \xNN, for one-line logs and replies.
    public static string Printable(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var sb = new System.Text.StringBuilder(address.Length);
        foreach (var c in address.Length > 256 ? address[..256] : address)
        {
            if (char.IsControl(c))
            {
                sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            }
            else
            {
                sb.Append(c);
            }
        }
        return address.Length > 256 ? sb.Append('…').ToString() : sb.ToString();
    }

    // The parse must name the mailbox we were given: no display name, no comment, and the
    // same local part and domain (MimeKit drops a domain's final dot, which is the same domain).
    private static bool IsSame(MailboxAddress parsed, string address) =>
        string.IsNullOrEmpty(parsed.Name)
        && (string.Equals(parsed.Address, address, StringComparison.Ordinal)
            || string.Equals(parsed.Address + ".", address, StringComparison.Ordinal));

    // The local part quoted when it is not already, a bare IPv6 domain as a literal.
    private static string? Carried(string address)
    {
        var at = address.LastIndexOf('@');
        if (at <= 0 || at == address.Length - 1)
        {
            return null;
        }
        var local = address[..at];
        var domain = address[(at + 1)..];
        if (!(local.Length >= 2 && local[0] == '"' && local[^1] == '"'))
        {
            // Only dots out of place are mended: anything else outside atext (a space, a
            // quote, a bracket) means the address is not what RFC 5321 §4.1.2 allows unquoted.
            foreach (var c in local)
            {
                if (!DotAtomChars.Contains(c) && (c < 0x80 || char.IsControl(c)))
                {
                    return null;
                }
            }
            local = "\"" + local + "\"";
        }
        if (domain.Contains(':', StringComparison.Ordinal) && domain[0] != '['
            && IPAddress.TryParse(domain, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6)
        {
            domain = "[IPv6:" + domain + "]";
        }
        return local + "@" + domain;
    }
}
