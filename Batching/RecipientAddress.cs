using MimeKit;

namespace Failmail.Batching;

// Recipient normalisation for batch keys. failmail lowercased the whole address, merging
// distinct mailboxes (spec §10.16). RFC 5321 §2.4 leaves the local part case-sensitive, so we
// lowercase only the domain: "Bob@Example.COM" and "bob@example.com" are two batches, while
// "ops@EXAMPLE.com" and "ops@example.com" are one. Display names and angle brackets go.
internal static class RecipientAddress
{
    public static string Normalize(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (IsPlain(address))
        {
            // The common case, a bare addr-spec from RCPT TO: no parsing, no allocation when
            // the domain is already lowercase.
            var at = address.IndexOf('@', StringComparison.Ordinal);
            var domain = address.AsSpan(at + 1);
            foreach (var c in domain)
            {
                if (char.IsAsciiLetterUpper(c))
                {
                    return string.Concat(address.AsSpan(0, at + 1), domain.ToString().ToLowerInvariant());
                }
            }
            return address;
        }
        return Parse(address);
    }

    private static bool IsPlain(string address)
    {
        var at = -1;
        for (var i = 0; i < address.Length; i++)
        {
            var c = address[i];
            if (c == '@')
            {
                if (at >= 0)
                {
                    return false;
                }
                at = i;
            }
            else if (c <= ' ' || c >= 0x7F || c is '<' or '>' or '"' or '(' or ')' or ',' or ';' or ':' or '\\' or '[' or ']')
            {
                return false;
            }
        }
        return at > 0 && at < address.Length - 1;
    }

    private static string Parse(string address)
    {
        var text = address.Trim();
        if (MailboxAddress.TryParse(ParserOptions.Default, text, out var mailbox) && !string.IsNullOrEmpty(mailbox.Address))
        {
            text = mailbox.Address;
        }
        else if (text.Length > 1 && text[0] == '<' && text[^1] == '>')
        {
            text = text[1..^1];
        }
        var at = text.LastIndexOf('@');
        if (at < 0)
        {
            return text;
        }
        return string.Concat(text.AsSpan(0, at + 1), text[(at + 1)..].ToLowerInvariant());
    }
}
