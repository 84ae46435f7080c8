using Failmail.Smtp;

namespace Failmail.Sendmail;

// The spool importer's limits: the SMTP receiver's (a spooled message is taken exactly as SMTP
// would take it), plus what the envelope lines may add to a spool file.
internal readonly record struct SpoolLimits(long MaxMessageSize, int MaxRecipients, int MaxEnvelopeLine)
{
    // "X-Failmail-Envelope-From: " is 26 octets; the rest of the line is the path, which over
    // SMTP has to fit a command line (RFC 5321 §4.5.3.1.4, --max-command-line), and blanks.
    private const int FieldAllowance = 32;

    public static SpoolLimits From(FailmailOptions options)
    {
        var smtp = SmtpLimits.From(options);
        return new SpoolLimits(smtp.MaxMessageSize, smtp.MaxRecipients, smtp.MaxCommandLine + FieldAllowance);
    }

    // The most a spool file may hold: the message plus one From and MaxRecipients To lines,
    // each with its CRLF. Checked with fstat before a byte is read.
    public long MaxFileSize
    {
        get
        {
            var envelope = (MaxRecipients + 1L) * (MaxEnvelopeLine + 2L);
            return MaxMessageSize > long.MaxValue - envelope ? long.MaxValue : MaxMessageSize + envelope;
        }
    }
}
