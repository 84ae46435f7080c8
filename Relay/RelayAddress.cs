using System.Globalization;
using System.Net;

namespace Failmail.Relay;

// --relay-addr: "host:port", "[v6]:port", a bare host, or a URL whose scheme picks the TLS
// mode: smtp:// (STARTTLS when offered), smtp+starttls:// (STARTTLS required), smtps://
// (implicit TLS) and smtp+plain:// (never TLS). failmail (Go net.Dial) failed every send when
// the port was missing; a bare host means port 25 (RFC 5321 §4.5.4.2 names 25 for relaying),
// and each scheme has its own default: 25, 587 (RFC 6409), 465 (RFC 8314) and 25.
internal readonly record struct RelayAddress(string Host, int Port, RelayTlsMode Tls = RelayTlsMode.StartTlsWhenOffered)
{
    public const int DefaultPort = 25;

    private static readonly (string Scheme, RelayTlsMode Tls, int Port)[] Schemes =
    [
        ("smtp", RelayTlsMode.StartTlsWhenOffered, 25),
        ("smtp+starttls", RelayTlsMode.StartTlsRequired, 587),
        ("smtps", RelayTlsMode.Implicit, 465),
        ("smtp+plain", RelayTlsMode.None, 25),
    ];

    public string Scheme
    {
        get
        {
            var tls = Tls;
            return Schemes.First(s => s.Tls == tls).Scheme;
        }
    }

    // The canonical URL, port always written: smtps://mail.example.com:465.
    public string Url => $"{Scheme}://{this}";

    // Credentials may go unencrypted only to this machine (as Go's net/smtp PLAIN client).
    public bool IsLoopback =>
        string.Equals(Host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(Host, out var ip) && IPAddress.IsLoopback(ip));

    public static bool TryParse(string value, out RelayAddress address, out string error)
    {
        address = default;
        error = "";
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "relay address is empty";
            return false;
        }
        var separator = value.IndexOf("://", StringComparison.Ordinal);
        if (separator < 0)
        {
            return TryParseHostPort(value, value, DefaultPort, RelayTlsMode.StartTlsWhenOffered, out address, out error);
        }

        var scheme = value[..separator];
        var known = Array.FindIndex(Schemes, s => string.Equals(s.Scheme, scheme, StringComparison.OrdinalIgnoreCase));
        if (known < 0)
        {
            error = $"relay address '{value}': unknown scheme '{scheme}' (use smtp://, smtp+starttls://, smtps:// or smtp+plain://)";
            return false;
        }
        var authority = value[(separator + 3)..];
        // A trailing slash is harmless; a path, query or fragment means nothing for SMTP.
        if (authority.EndsWith('/'))
        {
            authority = authority[..^1];
        }
        if (authority.Contains('@', StringComparison.Ordinal))
        {
            // Kept out of the URL so the password never shows in logs or the process list.
            error = $"relay address '{Redact(value)}': credentials do not belong in the URL (use --relay-user and --relay-password-file)";
            return false;
        }
        if (authority.IndexOfAny(['/', '?', '#']) >= 0)
        {
            error = $"relay address '{value}': a relay URL is scheme://host[:port] without a path, query or fragment";
            return false;
        }
        return TryParseHostPort(value, authority, Schemes[known].Port, Schemes[known].Tls, out address, out error);
    }

    private static bool TryParseHostPort(string value, string hostPort, int defaultPort, RelayTlsMode tls, out RelayAddress address, out string error)
    {
        address = default;
        error = "";
        string host;
        string? port = null;
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"relay address '{value}': missing ']'";
                return false;
            }
            host = hostPort[1..close];
            var rest = hostPort[(close + 1)..];
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
            var colon = hostPort.LastIndexOf(':');
            if (colon >= 0 && hostPort.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                error = $"relay address '{value}': an IPv6 address needs brackets, as [::1]:25";
                return false;
            }
            host = colon < 0 ? hostPort : hostPort[..colon];
            port = colon < 0 ? null : hostPort[(colon + 1)..];
        }
        if (host.Length == 0)
        {
            error = $"relay address '{value}': missing host";
            return false;
        }
        var number = defaultPort;
        if (port is not null
            && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out number) || number is < 1 or > 65535))
        {
            error = $"relay address '{value}': port must be a number from 1 to 65535";
            return false;
        }
        address = new RelayAddress(host, number, tls);
        return true;
    }

    // "smtp://user:secret@host" → "smtp://***@host".
    private static string Redact(string value)
    {
        var start = value.IndexOf("://", StringComparison.Ordinal) + 3;
        var at = value.LastIndexOf('@');
        return value[..start] + "***" + value[at..];
    }

    public override string ToString() =>
        Host.Contains(':', StringComparison.Ordinal)
            ? string.Create(CultureInfo.InvariantCulture, $"[{Host}]:{Port}")
            : string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}");
}
