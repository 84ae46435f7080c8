namespace Failmail.Relay;

// --relay-addr picks the upstream: the literal "debug" prints to stdout, anything else is
// an SMTP relay "host[:port]". Throws ArgumentException for a malformed address.
internal static class RelayTransportFactory
{
    public const string Debug = "debug";

    public static IRelayTransport Create(FailmailOptions options, TimeProvider timeProvider, Stream standardOutput)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.RelayAddr == Debug
            ? new DebugRelayTransport(standardOutput)
            : new SmtpRelayTransport(options, timeProvider);
    }
}
