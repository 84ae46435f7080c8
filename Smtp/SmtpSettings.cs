using Failmail.Config;
using Failmail.Rewriting;

namespace Failmail.Smtp;

// The receiver's settings, parsed and checked in one place, once, when the listener is built:
// --bind-addr, the limits (SmtpLimits), the TLS files and mode (SmtpTls's rules),
// --credentials (SmtpCredentials' rule), --rewrite-src/--rewrite-dest, the host name the
// greeting shows and --allow-from (ClientNetworks). Throws ArgumentException or FormatException naming the flag.
internal sealed record SmtpSettings(
    BindAddress Bind,
    SmtpLimits Limits,
    SmtpCredentials? Credentials,
    bool AllowUnencryptedAuth,
    string TlsCert,
    string TlsKey,
    bool Ssl,
    bool DebugReceiver,
    RecipientRewriter Rewriter,
    string HostName,
    ClientNetworks AllowFrom)
{
    public static SmtpSettings From(FailmailOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (SmtpTls.Problems(options) is [var tlsProblem, ..])
        {
            throw new ArgumentException(tlsProblem);
        }
        return new SmtpSettings(
            BindAddress.Parse("--bind-addr", options.BindAddr),
            SmtpLimits.From(options),
            SmtpCredentials.Parse(options.Credentials),
            options.AllowUnencryptedAuth,
            options.TlsCert,
            options.TlsKey,
            options.Ssl,
            options.DebugReceiver,
            RecipientRewriter.From(options),
            FailmailOptions.HostName(),
            ClientNetworks.Parse(options.AllowFrom));
    }
}
