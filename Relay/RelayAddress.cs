using System.Globalization;

namespace Failmail.Relay;

// --relay-addr: "host:port", "[v6]:port", or a bare host. failmail (Go net.Dial) failed
// every send when the port was missing; we default to 25, the SMTP port (RFC 5321 §4.5.4.2
// names port 25 for relaying between MTAs).
internal readonly record struct RelayAddress(string Host, int Port)
{
    public const int DefaultPort = 25;

    public static bool TryParse(string value, out RelayAddress address, out string error)
    {
        address = default;
        error = "";
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "relay address is empty";
            return false;
        }
        string host;
        string? port = null;
        if (value.StartsWith('['))
        {
            var close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"relay address '{value}': missing ']'";
                return false;
            }
            host = value[1..close];
            var rest = value[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':')
                {
                    error = $"relay address '{value}': expected ':' after ']'";
                    return false;
                }
                port = rest[1..];
            }
        }
        else
        {
            var colon = value.LastIndexOf(':');
            if (colon >= 0 && value.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                error = $"relay address '{value}': an IPv6 address needs brackets, as [::1]:25";
                return false;
            }
            host = colon < 0 ? value : value[..colon];
            port = colon < 0 ? null : value[(colon + 1)..];
        }
        if (host.Length == 0)
        {
            error = $"relay address '{value}': missing host";
            return false;
        }
        var number = DefaultPort;
        if (port is not null
            && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out number) || number is < 1 or > 65535))
        {
            error = $"relay address '{value}': port must be a number from 1 to 65535";
            return false;
        }
        address = new RelayAddress(host, number);
        return true;
    }

    public override string ToString() =>
        Host.Contains(':', StringComparison.Ordinal)
            ? string.Create(CultureInfo.InvariantCulture, $"[{Host}]:{Port}")
            : string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}");
}
