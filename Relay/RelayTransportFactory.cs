using Microsoft.Extensions.Logging;

namespace Failmail.Relay;

// --relay-addr picks the upstream: the literal "debug" prints to stdout, anything else is
// an SMTP relay "host[:port]" or "scheme://host[:port]". Throws ArgumentException for a
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
        return settings.IsDebug
            ? new DebugRelayTransport(standardOutput)
            : new SmtpRelayTransport(settings, timeProvider, loggerFactory?.CreateLogger("Failmail.Relay"), maxSizeObserved);
    }
}
