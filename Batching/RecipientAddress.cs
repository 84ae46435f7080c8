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
