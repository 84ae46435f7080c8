using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Failmail.Config;

// --bind-addr and --bind-http share one syntax and one meaning, Go's net.Listen "host:port":
// an empty host or "*" is every interface (IPv6 any, which is dual-stack, where the system
// has IPv6; else IPv4 any); "localhost" is 127.0.0.1; IPv6 literals are bracketed; another
// name is resolved, its IPv4 address preferred (the one `failmail sendmail` connects to).
// Errors are FormatException with one line that starts with the flag (a start-up error).
internal readonly record struct BindAddress(string Flag, string Host, int Port)
{
    public static BindAddress Parse(string flag, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var colon = value.LastIndexOf(':');
        if (colon < 0
            || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port > IPEndPoint.MaxPort)
        {
            throw new FormatException($"{flag} {value}: expected host:port");
        }
        var host = value[..colon];
        if (host.Length >= 2 && host[0] == '[' && host[^1] == ']')
        {
            host = host[1..^1];
        }
        return new BindAddress(flag, host, port);
    }

    public bool IsAnyInterface => Host.Length == 0 || Host == "*";

    // The endpoint to bind (or, for the sendmail client, to connect to). Resolves a name.
    public IPEndPoint Resolve()
    {
        if (IsAnyInterface)
        {
            return new IPEndPoint(Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any, Port);
        }
        if (Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return new IPEndPoint(IPAddress.Loopback, Port);
        }
        if (IPAddress.TryParse(Host, out var address))
        {
            return new IPEndPoint(address, Port);
        }
        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(Host);
        }
        catch (SocketException e)
        {
            throw new FormatException($"{Flag} {Host}:{Port}: {Host} does not resolve: {e.Message}", e);
        }
        var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new FormatException($"{Flag} {Host}:{Port}: {Host} has no address");
        return new IPEndPoint(chosen, Port);
    }

    public static IPEndPoint Resolve(string flag, string value) => Parse(flag, value).Resolve();
}
