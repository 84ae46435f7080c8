using System.Buffers;
using System.Globalization;
using System.Text;

namespace Failmail.Smtp;

// One SMTP reply. Text holds the lines of a multi-line reply separated by '\n'; each is
// written as "<code>-<line>" except the last, "<code> <line>" (RFC 5321 §4.2.1).
// Texts carry RFC 3463 enhanced status codes because EHLO advertises ENHANCEDSTATUSCODES.
internal readonly record struct SmtpReply(int Code, string Text)
{
    public static readonly SmtpReply Ok = new(250, "2.0.0 OK");
    public static readonly SmtpReply SenderOk = new(250, "2.1.0 OK");
    public static readonly SmtpReply RecipientOk = new(250, "2.1.5 OK");
    public static readonly SmtpReply ResetOk = new(250, "2.0.0 Reset");
    public static readonly SmtpReply NoopOk = new(250, "2.0.0 OK");
    public static readonly SmtpReply StartData = new(354, "End data with <CR><LF>.<CR><LF>");
    public static readonly SmtpReply Help = new(214, "2.0.0 See RFC 5321");
    public static readonly SmtpReply CannotVerify = new(252, "2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
    public static readonly SmtpReply ReadyForTls = new(220, "2.0.0 Ready to start TLS");
    public static readonly SmtpReply AuthSucceeded = new(235, "2.7.0 Authentication successful");

    // §4.2.4: 500 for an unrecognised command, 502 for one we know but do not implement.
    public static readonly SmtpReply UnknownCommand = new(500, "5.5.2 Command not recognized");
    public static readonly SmtpReply LineTooLong = new(500, "5.5.2 Line too long");
    public static readonly SmtpReply BareLf = new(500, "5.5.2 Bare LF, end command lines with CRLF");
    public static readonly SmtpReply NotImplemented = new(502, "5.5.1 Command not implemented");
    public static readonly SmtpReply BadSequence = new(503, "5.5.1 Bad sequence of commands");
    public static readonly SmtpReply NeedMail = new(503, "5.5.1 Need MAIL before RCPT");
    public static readonly SmtpReply NeedRcpt = new(503, "5.5.1 Need RCPT before DATA");
    public static readonly SmtpReply NestedMail = new(503, "5.5.1 Sender already specified");
    public static readonly SmtpReply AlreadyAuthenticated = new(503, "5.5.1 Already authenticated");
    public static readonly SmtpReply AuthNotEnabled = new(503, "5.5.1 Authentication not enabled");
    public static readonly SmtpReply AuthInTransaction = new(503, "5.5.1 AUTH not permitted during a mail transaction");
    // RFC 4954 §4: AUTH is an EHLO extension, so it is a bad sequence before EHLO (or after HELO).
    public static readonly SmtpReply AuthNeedsEhlo = new(503, "5.5.1 Send HELO/EHLO first");
    public static readonly SmtpReply TlsActive = new(503, "5.5.1 TLS already active");
    public static readonly SmtpReply TlsNotAvailable = new(502, "5.5.1 STARTTLS not available");
    public static readonly SmtpReply UnknownMechanism = new(504, "5.5.4 Unrecognized authentication type");
    public static readonly SmtpReply AuthRequired = new(530, "5.7.0 Authentication required");
    public static readonly SmtpReply AuthFailed = new(535, "5.7.8 Authentication credentials invalid");
    public static readonly SmtpReply EncryptionRequired = new(538, "5.7.11 Encryption required for requested authentication mechanism");
    public static readonly SmtpReply AuthCancelled = new(501, "5.7.0 Authentication cancelled");
    public static readonly SmtpReply BadBase64 = new(501, "5.5.2 Cannot decode response");
    public static readonly SmtpReply BadCredentialsFormat = new(501, "5.5.2 Malformed credentials");
    // RFC 4954 §6: an AUTH response over the line limit fails the exchange.
    public static readonly SmtpReply AuthLineTooLong = new(500, "5.5.6 Authentication Exchange line is too long");

    // §4.5.3.1.10: too many recipients is 452, and the client sends the rest in another transaction.
    public static readonly SmtpReply TooManyRecipients = new(452, "4.5.3 Too many recipients");
    // §4.5.3.1.7 / RFC 1870: a message over the declared limit is 552.
    public static readonly SmtpReply MessageTooBig = new(552, "5.3.4 Message size exceeds fixed maximum message size");
    public static readonly SmtpReply QueueFull = new(451, "4.3.2 Queue full, try again later");
    public static readonly SmtpReply StorageFailed = new(451, "4.3.0 Local error in processing");
    public static readonly SmtpReply DiskFull = new(452, "4.3.1 Insufficient system storage");

    // §3.8: 421 may be sent at any time when the server must close the connection.
    public static readonly SmtpReply TooManyConnections = new(421, "4.7.0 Too many connections, try again later");
    public static readonly SmtpReply Timeout = new(421, "4.4.2 Timeout, closing connection");
    public static readonly SmtpReply ShuttingDown = new(421, "4.3.2 Shutting down");
    public static readonly SmtpReply TooManyAuthFailures = new(421, "4.7.0 Too many authentication failures");

    public static SmtpReply SyntaxError(string text) => new(501, "5.5.4 " + text);

    // §4.2.2 553: mailbox name not allowed; RFC 3463 5.1.3 bad destination / 5.1.7 bad sender.
    public static SmtpReply AddressRefused(string status, string reason) => new(553, status + " " + reason);

    // A bare local name from a client that is not on this host: Postfix's
    // reject_non_fqdn_recipient answers 504 5.5.2 for the same.
    public static SmtpReply BareNameRefused(string address) =>
        new(504, "5.5.2 <" + address + ">: need a fully-qualified address (bare names only from this host)");

    public bool IsPositive => Code < 400;

    // The same octets as Encoding.UTF8.GetBytes(ToString()), written straight into the
    // pipe: a reply goes out for every command, so this path makes no strings or arrays.
    public void WriteTo(IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var text = Text.AsSpan();
        while (true)
        {
            var newline = text.IndexOf('\n');
            var line = newline < 0 ? text : text[..newline];
            // An int is at most 11 characters; then the separator, the line and CRLF.
            var span = writer.GetSpan(11 + 1 + Encoding.UTF8.GetMaxByteCount(line.Length) + 2);
            if (!Code.TryFormat(span, out var written, default, CultureInfo.InvariantCulture))
            {
                throw new InvalidOperationException("reply code does not fit");
            }
            span[written++] = newline < 0 ? (byte)' ' : (byte)'-';
            written += Encoding.UTF8.GetBytes(line, span[written..]);
            span[written++] = (byte)'\r';
            span[written++] = (byte)'\n';
            writer.Advance(written);
            if (newline < 0)
            {
                return;
            }
            text = text[(newline + 1)..];
        }
    }

    // The reply on the wire, CRLF after every line.
    public override string ToString()
    {
        var lines = Text.Split('\n');
        var sb = new StringBuilder();
        for (var i = 0; i < lines.Length; i++)
        {
            sb.Append(Code).Append(i == lines.Length - 1 ? ' ' : '-').Append(lines[i]).Append("\r\n");
        }
        return sb.ToString();
    }
}
