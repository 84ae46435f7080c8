using Failmail.Intake;

namespace Failmail.Smtp;

// What every session of one listener shares, fixed at start-up. Credentials are null when
// --credentials is not set; TlsAvailable means STARTTLS can be offered (cert and key loaded,
// no --ssl). Envelope, when set, refuses addresses no later stage could carry.
internal sealed record SmtpSessionSettings(
    string HostName,
    SmtpLimits Limits,
    SmtpCredentials? Credentials = null,
    bool AllowUnencryptedAuth = false,
    bool TlsAvailable = false,
    EnvelopeCheck? Envelope = null);

// --credentials user:pass, split at the first ':' (failmail's rule: the password may hold ':').
internal sealed record SmtpCredentials(string User, string Password)
{
    public static SmtpCredentials? Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0)
        {
            return null;
        }
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        return colon < 0
            ? throw new ArgumentException("--credentials: must be in username:password format")
            : new SmtpCredentials(value[..colon], value[(colon + 1)..]);
    }

    // The password never reaches a log through a record's generated ToString.
    public override string ToString() => $"SmtpCredentials {{ User = {User} }}";
}
