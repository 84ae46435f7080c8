using System.Text;
using Failmail.Addresses;
using Failmail.Rewriting;
using Failmail.Smtp;
using MimeKit;
using MimeKit.Utils;

namespace Failmail.Sendmail;

// Turns what a program piped into sendmail into a submittable message, as sendmail does:
// - recipients from the command line, plus To/Cc/Bcc with -t; Bcc headers are removed;
// - the envelope sender is -f, else the invoking user; bare names get @--qualify-domain;
// - a missing From (the envelope sender, with -F as its name), Date or Message-ID is added;
// - input that does not start with headers is all body (an empty header section is added);
// - X-Failmail-Envelope-* headers are removed: the spool format uses them.
internal static class MessagePreparer
{
    public const string EnvelopeHeaderPrefix = "X-Failmail-Envelope-";

    public static bool TryPrepare(byte[] input, SendmailArguments args, string qualifyDomain, string userName, DateTimeOffset now,
        out SubmittedMessage? message, out int exitCode, out string error)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(args);
        message = null;
        exitCode = SysExits.Ok;
        error = "";
        var (headerStart, headerEnd, bodyStart) = FindHeaderSection(input);
        var fields = HeaderFields.Split(input.AsSpan(headerStart, headerEnd - headerStart));
        if (fields.Any(f => f.Raw.AsSpan().Contains((byte)0)))
        {
            exitCode = SysExits.DataError;
            error = "message headers contain a NUL byte";
            return false;
        }

        string Qualify(string address) => address.Length == 0 || MailAddress.IsQualified(address) ? address : address + "@" + qualifyDomain;

        var recipients = new List<string>();
        foreach (var argument in args.Recipients)
        {
            if (!MailboxAddress.TryParse(ParserOptions.Default, argument, out var mailbox) || mailbox.Address.Length == 0)
            {
                exitCode = SysExits.Usage;
                error = $"bad recipient address \"{argument}\"";
                return false;
            }
            recipients.Add(Qualify(mailbox.Address));
        }

        var kept = new List<HeaderField>();
        foreach (var field in fields)
        {
            if (field.Name.StartsWith(EnvelopeHeaderPrefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            var isRecipientField = field.Name.Equals("To", StringComparison.OrdinalIgnoreCase)
                || field.Name.Equals("Cc", StringComparison.OrdinalIgnoreCase)
                || field.Name.Equals("Bcc", StringComparison.OrdinalIgnoreCase);
            if (args.RecipientsFromHeaders && isRecipientField && field.Value.Length > 0)
            {
                if (!AddressListParser.TryParse(field.Value, out var list)
                    || list.Mailboxes.Any(m => m.Address.Length == 0 || m.Address.Any(c => char.IsWhiteSpace(c) || c is '<' or '>' or '"')))
                {
                    exitCode = SysExits.DataError;
                    error = $"cannot parse the {field.Name} header: {field.Value}";
                    return false;
                }
                recipients.AddRange(list.Mailboxes.Select(m => Qualify(m.Address)));
            }
            if (field.Name.Equals("Bcc", StringComparison.OrdinalIgnoreCase) || field.Name.Equals("Resent-Bcc", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            kept.Add(field);
        }
        recipients = recipients.Distinct(StringComparer.Ordinal).ToList();
        if (recipients.Count == 0)
        {
            exitCode = SysExits.Usage;
            error = args.RecipientsFromHeaders ? "no recipients in the command line or the To, Cc and Bcc headers" : "no recipients given (name them, or use -t)";
            return false;
        }

        var sender = Qualify(EnvelopeSender(args.Sender, userName));
        // The daemon takes only what its SMTP parser takes (and every stage after it can
        // carry): refuse here with one line and a sysexits code, not at the submission.
        if (!IsEnvelopeAddress(sender, allowNull: true))
        {
            exitCode = SysExits.Usage;
            error = $"bad sender address \"{EnvelopeMailbox.Printable(sender)}\"";
            return false;
        }
        if (recipients.FirstOrDefault(r => !IsEnvelopeAddress(r, allowNull: false)) is { } badRecipient)
        {
            exitCode = args.Recipients.Contains(badRecipient) ? SysExits.Usage : SysExits.DataError;
            error = $"bad recipient address \"{EnvelopeMailbox.Printable(badRecipient)}\"";
            return false;
        }
        var output = new MemoryStream(input.Length + 512);
        foreach (var field in kept)
        {
            output.Write(field.Raw);
        }
        // A user name that is no mailbox (the null sender's stand-in) gets no From header.
        if (!kept.Any(f => f.Name.Equals("From", StringComparison.OrdinalIgnoreCase))
            && EnvelopeMailbox.TryCreate(sender.Length > 0 ? sender : Qualify(userName), out var from))
        {
            from.Name = args.FullName ?? "";
            WriteField(output, "From", from.ToString(FormatOptions.Default, encode: true));
        }
        if (!kept.Any(f => f.Name.Equals("Date", StringComparison.OrdinalIgnoreCase)))
        {
            WriteField(output, "Date", DateUtils.FormatDate(now));
        }
        if (!kept.Any(f => f.Name.Equals("Message-ID", StringComparison.OrdinalIgnoreCase)))
        {
            WriteField(output, "Message-ID", "<" + MimeUtils.GenerateMessageId(qualifyDomain) + ">");
        }
        output.Write("\r\n"u8);
        output.Write(input.AsSpan(bodyStart));
        message = new SubmittedMessage(sender, recipients, output.ToArray());
        return true;
    }

    private static bool IsEnvelopeAddress(string address, bool allowNull)
    {
        var path = Encoding.UTF8.GetBytes("<" + address + ">");
        return SmtpAddressParser.TryParsePath(path, allowNull, out _, out var used) && used == path.Length
            && EnvelopeMailbox.CanCarry(address);
    }

    private static string EnvelopeSender(string? sender, string userName)
    {
        if (sender is null)
        {
            return userName;
        }
        var trimmed = sender.Trim();
        if (trimmed is "<>" or "")
        {
            return "";
        }
        return MailboxAddress.TryParse(ParserOptions.Default, trimmed, out var mailbox) ? mailbox.Address : trimmed.Trim('<', '>');
    }

    private static void WriteField(MemoryStream output, string name, string value) =>
        output.Write(Encoding.UTF8.GetBytes(name + ": " + value.Trim() + "\r\n"));

    // (start and end of the header fields, start of the body). The blank line between is dropped here
    // and written back by the caller. A leading mbox "From " line is skipped, as sendmail does.
    private static (int HeaderStart, int HeaderEnd, int BodyStart) FindHeaderSection(byte[] input)
    {
        var span = input.AsSpan();
        var start = 0;
        if (span.StartsWith("From "u8))
        {
            var lf = span.IndexOf((byte)'\n');
            start = lf < 0 ? span.Length : lf + 1;
        }
        var i = start;
        var inField = false;
        while (i < span.Length)
        {
            var lf = span[i..].IndexOf((byte)'\n');
            var next = lf < 0 ? span.Length : i + lf + 1;
            var line = span[i..next].TrimEnd("\r\n"u8);
            if (line.IsEmpty)
            {
                return (start, i, next);
            }
            if (line[0] is (byte)' ' or (byte)'\t' ? !inField : !IsFieldStart(line))
            {
                // Not a header line: the body starts here.
                return (start, i, i);
            }
            inField = true;
            i = next;
        }
        return (start, i, i);
    }

    // RFC 5322 §2.2: a field name is printable ASCII except ':' and is followed by ':'.
    private static bool IsFieldStart(ReadOnlySpan<byte> line)
    {
        var colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            return false;
        }
        foreach (var b in line[..colon])
        {
            if (b is <= 32 or >= 127)
            {
                return false;
            }
        }
        return true;
    }
}
