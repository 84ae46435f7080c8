using Microsoft.Extensions.Logging;

namespace Failmail.Relay;

// --relay-addr picks the upstream: the literal "debug" prints to stdout, anything else is
// a failover list of SMTP relays "host[:port]" or "scheme://host[:port]", comma-separated
// (FailoverRelayTransport, also for a list of one: its per-relay numbers feed /metrics). Throws ArgumentException for a
// malformed address and IOException for an unreadable --relay-ca-file or
// --relay-password-file (both name the flag: the host reports them as start-up errors).
internal static class RelayTransportFactory
{
    public const string Debug = "debug";

    public static IRelayTransport Create(FailmailOptions options, TimeProvider timeProvider, Stream standardOutput, ILoggerFactory? loggerFactory = null) =>
        Create(RelaySettings.From(options), timeProvider, standardOutput, loggerFactory);

    // maxSizeObserved: told the relay's SIZE after each connect (the batcher builds digests to it).
    public static IRelayTransport Create(RelaySettings settings, TimeProvider timeProvider, Stream standardOutput, ILoggerFactory? loggerFactory = null,
        Action<long>? maxSizeObserved = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.IsDebug)
        {
            return new DebugRelayTransport(standardOutput);
        }
        // The password and CA files are read once for the whole list.
        var logger = loggerFactory?.CreateLogger("Failmail.Relay");
        var credentials = RelayCredentials.Load(settings);
        var certificates = RelayCertificatePolicy.Load(settings);
        var relays = settings.Addresses
            .Select(a => new RelayEndpoint(a.Url, new SmtpRelayTransport(a, settings.Timeout, credentials, certificates, ownsCertificates: false,
                timeProvider, logger, maxSizeObserved)))
            .ToList();
        return new FailoverRelayTransport(relays, settings.RetryMin, settings.RetryMax, timeProvider, logger, certificates);
    }
}
