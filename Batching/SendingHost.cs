using Failmail.Maildir;

namespace Failmail.Batching;

// The host a digest names for a message (issue 13, "who is affected"): the client's EHLO name,
// else its address, else the domain of the envelope sender, else "unknown". The spool door
// stores the local host name as its EHLO name.
internal static class SendingHost
{
    public const string Unknown = "unknown";

    public static string Of(Envelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (!string.IsNullOrEmpty(envelope.ClientName))
        {
            return HeaderText.Cut(envelope.ClientName);
        }
        if (!string.IsNullOrEmpty(envelope.ClientAddress) && envelope.ClientAddress is not ("spool" or "preview"))
        {
            return HeaderText.Cut(envelope.ClientAddress);
        }
        var at = envelope.From.LastIndexOf('@');
        return at >= 0 && at < envelope.From.Length - 1 ? HeaderText.Cut(envelope.From[(at + 1)..]) : Unknown;
    }
}
