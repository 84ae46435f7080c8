using System.Text;
using Failmail.Smtp;

namespace Failmail.Sendmail;

// Reads the envelope block of a spool file (SpoolFile): exactly one
//   X-Failmail-Envelope-From: <path or empty>
// first, then one to MaxRecipients
//   X-Failmail-Envelope-To: <path>
// each holding one path that SMTP's MAIL FROM / RCPT TO would take (SmtpAddressParser, the
// same grammar). The first line that does not start with "X-Failmail-Envelope-" starts the
// message. Anyone who can write the spool writes these files, so the block is parsed strictly:
// a line with that prefix that is not one of the two fields, or whose value is not exactly one
// path, makes the file bad; it never silently ends the envelope.
//
// Incremental, as Bedrock's readers: Read is handed the unread bytes (the caller keeps what was
// not consumed and appends more); it parses whole lines only and never looks further than one
// line of MaxEnvelopeLine octets plus its line end. One reader per file.
internal sealed class SpoolEnvelopeReader
{
    private static ReadOnlySpan<byte> Prefix => "X-Failmail-Envelope-"u8;
    private static ReadOnlySpan<byte> FromName => "X-Failmail-Envelope-From:"u8;
    private static ReadOnlySpan<byte> ToName => "X-Failmail-Envelope-To:"u8;

    private readonly SpoolLimits _limits;
    private readonly List<string> _recipients = [];
    private int _lines;

    public SpoolEnvelopeReader(SpoolLimits limits)
    {
        _limits = limits;
    }

    public string? From { get; private set; }

    public IReadOnlyList<string> Recipients => _recipients;

    // Why the file is bad, once Read returned Bad. Never quotes the file's content.
    public string Reason { get; private set; } = "";

    // Octets of envelope lines consumed so far; once Complete, the offset of the message.
    public long Length { get; private set; }

    // final: buffer ends where the file ends. consumed: octets of whole envelope lines taken
    // from buffer (the message starts there once Complete).
    public SpoolEnvelopeStatus Read(ReadOnlySpan<byte> buffer, bool final, out int consumed)
    {
        consumed = 0;
        while (true)
        {
            var rest = buffer[consumed..];
            var prefix = Math.Min(rest.Length, Prefix.Length);
            if (!Ascii.EqualsIgnoreCase(rest[..prefix], Prefix[..prefix]))
            {
                return End(rest);
            }
            if (prefix < Prefix.Length)
            {
                // Too short to tell (rest.Length < prefix length, and a line end would not
                // have matched): wait for more, or the file ends in a short message line.
                return final ? End(rest) : SpoolEnvelopeStatus.NeedMore;
            }
            var window = rest[..Math.Min(rest.Length, _limits.MaxEnvelopeLine + 2)];
            var lf = window.IndexOf((byte)'\n');
            if (lf < 0)
            {
                if (window.Length >= _limits.MaxEnvelopeLine + 2)
                {
                    return Bad($"envelope line {_lines + 1} is longer than {_limits.MaxEnvelopeLine} octets");
                }
                return final ? Bad($"the file ends inside envelope line {_lines + 1}") : SpoolEnvelopeStatus.NeedMore;
            }
            // A CRLF as written by SpoolFile.Encode; a bare LF is taken too.
            var line = lf > 0 && rest[lf - 1] == (byte)'\r' ? rest[..(lf - 1)] : rest[..lf];
            _lines++;
            if (line.Length > _limits.MaxEnvelopeLine)
            {
                return Bad($"envelope line {_lines} is longer than {_limits.MaxEnvelopeLine} octets");
            }
            if (!TryField(line))
            {
                return SpoolEnvelopeStatus.Bad;
            }
            consumed += lf + 1;
            Length += lf + 1;
        }
    }

    private SpoolEnvelopeStatus End(ReadOnlySpan<byte> message)
    {
        if (From is null)
        {
            return Bad("no X-Failmail-Envelope-From line first: not a spooled message");
        }
        if (_recipients.Count == 0)
        {
            return Bad("no X-Failmail-Envelope-To line");
        }
        if (!message.IsEmpty && message[0] is (byte)' ' or (byte)'\t')
        {
            return Bad($"envelope line {_lines} is folded");
        }
        return SpoolEnvelopeStatus.Complete;
    }

    private bool TryField(ReadOnlySpan<byte> line)
    {
        bool isFrom;
        if (line.Length >= FromName.Length && Ascii.EqualsIgnoreCase(line[..FromName.Length], FromName))
        {
            if (_lines != 1)
            {
                Bad($"envelope line {_lines}: X-Failmail-Envelope-From must be the first line, once");
                return false;
            }
            isFrom = true;
        }
        else if (line.Length >= ToName.Length && Ascii.EqualsIgnoreCase(line[..ToName.Length], ToName))
        {
            if (From is null)
            {
                Bad($"envelope line {_lines}: X-Failmail-Envelope-To before X-Failmail-Envelope-From");
                return false;
            }
            if (_recipients.Count >= _limits.MaxRecipients)
            {
                // SmtpSession answers 452 past the limit (--max-recipients).
                Bad($"more than {_limits.MaxRecipients} recipients (--max-recipients)");
                return false;
            }
            isFrom = false;
        }
        else
        {
            Bad($"envelope line {_lines} is not an X-Failmail-Envelope-From or -To field");
            return false;
        }
        var name = isFrom ? "X-Failmail-Envelope-From" : "X-Failmail-Envelope-To";
        var value = line[(isFrom ? FromName.Length : ToName.Length)..].TrimStart(" \t"u8);
        // As SmtpCommandParser's MAIL FROM and RCPT TO: the null path only for the sender.
        if (!SmtpAddressParser.TryParsePath(value, allowNull: isFrom, out var address, out var used))
        {
            Bad($"envelope line {_lines}: {name} is not a path SMTP accepts");
            return false;
        }
        if (!value[used..].TrimEnd(" \t"u8).IsEmpty)
        {
            Bad($"envelope line {_lines}: {name} holds more than one path (one address per line)");
            return false;
        }
        if (isFrom)
        {
            From = address;
        }
        else
        {
            _recipients.Add(address);
        }
        return true;
    }

    private SpoolEnvelopeStatus Bad(string reason)
    {
        Reason = reason;
        return SpoolEnvelopeStatus.Bad;
    }
}
