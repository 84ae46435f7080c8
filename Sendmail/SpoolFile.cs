using System.Text;
using Failmail.Rewriting;

namespace Failmail.Sendmail;

// A spooled message keeps its envelope in header fields prepended to the message:
//   X-Failmail-Envelope-From: <sender>
//   X-Failmail-Envelope-To: <recipient>        (one per recipient)
// followed by the message itself. MessagePreparer strips such fields from every submitted
// message, so the leading run of them is always ours.
internal static class SpoolFile
{
    private const string FromField = MessagePreparer.EnvelopeHeaderPrefix + "From";
    private const string ToField = MessagePreparer.EnvelopeHeaderPrefix + "To";

    public static byte[] Encode(SubmittedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var header = new StringBuilder();
        header.Append(FromField).Append(": <").Append(message.From).Append(">\r\n");
        foreach (var recipient in message.Recipients)
        {
            header.Append(ToField).Append(": <").Append(recipient).Append(">\r\n");
        }
        return [.. Encoding.UTF8.GetBytes(header.ToString()), .. message.Bytes];
    }

    public static bool TryDecode(byte[] file, out SubmittedMessage? message)
    {
        ArgumentNullException.ThrowIfNull(file);
        message = null;
        string? from = null;
        var recipients = new List<string>();
        var offset = 0;
        while (offset < file.Length)
        {
            var lf = Array.IndexOf(file, (byte)'\n', offset);
            if (lf < 0)
            {
                break;
            }
            var line = Encoding.UTF8.GetString(file, offset, lf - offset).TrimEnd('\r');
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = colon < 0 ? "" : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].Trim();
            var isFrom = name.Equals(FromField, StringComparison.OrdinalIgnoreCase);
            var isTo = name.Equals(ToField, StringComparison.OrdinalIgnoreCase);
            if (!isFrom && !isTo)
            {
                break;
            }
            if (value.Length < 2 || value[0] != '<' || value[^1] != '>')
            {
                return false;
            }
            var address = value[1..^1];
            if (isFrom)
            {
                from = address;
            }
            else if (MailAddress.IsQualified(address))
            {
                recipients.Add(address);
            }
            offset = lf + 1;
        }
        if (from is null || recipients.Count == 0)
        {
            return false;
        }
        message = new SubmittedMessage(from, recipients, file[offset..]);
        return true;
    }
}
