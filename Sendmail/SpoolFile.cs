using System.Text;

namespace Failmail.Sendmail;

// A spooled message keeps its envelope in header fields prepended to the message:
//   X-Failmail-Envelope-From: <sender>
//   X-Failmail-Envelope-To: <recipient>        (one per recipient)
// followed by the message itself. MessagePreparer strips such fields from every submitted
// message, so the leading run of them is always ours. SpoolEnvelopeReader parses the block.
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

    // A whole spool file held in memory, under the same rules as the importer's streaming read:
    // a valid envelope within the limits and a message of at most MaxMessageSize octets.
    public static bool TryDecode(ReadOnlySpan<byte> file, SpoolLimits limits, out SubmittedMessage? message, out string reason)
    {
        message = null;
        var reader = new SpoolEnvelopeReader(limits);
        if (reader.Read(file, final: true, out var consumed) != SpoolEnvelopeStatus.Complete)
        {
            reason = reader.Reason;
            return false;
        }
        var body = file[consumed..];
        if (body.Length > limits.MaxMessageSize)
        {
            reason = SpoolEntry.TooLarge(body.Length, limits);
            return false;
        }
        // Debug.Assert-free: Complete means From is set.
        message = new SubmittedMessage(reader.From ?? "", [.. reader.Recipients], body.ToArray());
        reason = "";
        return true;
    }
}
