using Failmail.Addresses;
using Failmail.Rewriting;

namespace Failmail.Intake;

// Whether an address the SMTP parser took can go all the way: through the hub's rewriting
// (aliases, canonical maps, masquerading, --rewrite-src/--rewrite-dest) into a digest header
// and the relay's envelope. MAIL and RCPT ask it before their 250, so a message is never
// accepted for an address that a later stage would choke on (RFC 5321 §3.3: refuse at RCPT,
// not after the message was taken). Pure and thread-safe: the rewriters are immutable.
internal sealed class EnvelopeCheck(AddressRewriter? addresses, RecipientRewriter rewriter)
{
    // Null when the sender can be carried, else the reason for a 553.
    public string? SenderProblem(string sender)
    {
        ArgumentNullException.ThrowIfNull(sender);
        var rewritten = addresses?.RewriteSender(sender) ?? sender;
        if (EnvelopeMailbox.CanCarry(rewritten))
        {
            return null;
        }
        return rewritten == sender
            ? $"sender <{EnvelopeMailbox.Printable(sender)}> cannot be relayed"
            : $"sender <{EnvelopeMailbox.Printable(sender)}> is rewritten to <{EnvelopeMailbox.Printable(rewritten)}>, which cannot be relayed";
    }

    // Null when every address the recipient becomes can be carried, else the reason for a 553.
    public string? RecipientProblem(string recipient)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        var targets = rewriter.RewriteAll(addresses?.RewriteRecipients([recipient]) ?? [recipient]);
        foreach (var target in targets)
        {
            if (!EnvelopeMailbox.CanCarry(target) || target.Length == 0)
            {
                return target == recipient
                    ? $"recipient <{EnvelopeMailbox.Printable(recipient)}> cannot be relayed"
                    : $"recipient <{EnvelopeMailbox.Printable(recipient)}> is rewritten to <{EnvelopeMailbox.Printable(target)}>, which cannot be relayed";
            }
        }
        return null;
    }
}
