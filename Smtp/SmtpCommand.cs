namespace Failmail.Smtp;

internal enum SmtpVerb
{
    Unknown,
    NotImplemented,
    Helo,
    Ehlo,
    Mail,
    Rcpt,
    Data,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Help,
    StartTls,
    Auth,
}

// A parsed command line. Argument is the EHLO/HELO domain, the MAIL/RCPT address (without
// angle brackets; "" for the null sender) or the AUTH mechanism (upper case). Parameter is
// the AUTH initial response (null when absent). Size is the MAIL SIZE= value or -1.
// Error, when set, is the reply for a line that named a known verb but did not parse.
internal readonly record struct SmtpCommand(
    SmtpVerb Verb,
    string Argument = "",
    string? Parameter = null,
    long Size = -1,
    SmtpReply? Error = null);
