using System.Net;
using System.Security.Cryptography;
using System.Text;
using Failmail.Hosting;

namespace Failmail.Api;

// Who may use /api/ (issue 15), checked before any route. Pure.
// - On a loopback --bind-http without a token: loopback clients only, and the Host must be
//   a loopback name, so a web page that rebinds its DNS name to 127.0.0.1 cannot read it.
// - With --http-token-file: "Authorization: Bearer <token>", compared in constant time.
// - Mutations (anything but GET/HEAD) with an Origin must come from this server's own origin
//   (CSRF); clients without one (curl, `failmail ctl`) are not browsers.
internal static class ApiAccess
{
    public static (int Status, string Error)? Check(HttpRequest request, ApiSettings settings)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(settings);
        var head = request.Head;
        if (settings.LoopbackOnly && !IsLoopback(request.Remote))
        {
            return (403, "loopback clients only");
        }
        if (settings.Token is { } token)
        {
            if (!TokenMatches(head.Authorization, token))
            {
                return (401, "missing or wrong bearer token");
            }
        }
        else if (settings.LoopbackOnly && !IsLoopbackHost(head.Host))
        {
            return (403, "Host must be a loopback name (localhost, 127.0.0.1 or [::1])");
        }
        if (head.Method is not ("GET" or "HEAD") && head.Origin is { } origin)
        {
            var own = (request.Tls ? "https://" : "http://") + head.Host;
            if (head.Host is null || !string.Equals(origin, own, StringComparison.OrdinalIgnoreCase))
            {
                return (403, $"Origin {origin} may not change this server (CSRF)");
            }
        }
        return null;
    }

    public static bool IsLoopback(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
    }

    private static bool TokenMatches(string? authorization, string token)
    {
        const string Scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var given = Encoding.UTF8.GetBytes(authorization[Scheme.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(token));
    }

    // host[:port], [v6]:port
    private static bool IsLoopbackHost(string? host)
    {
        if (string.IsNullOrEmpty(host))
        {
            return false; // HTTP/1.1 requires Host (RFC 9112 §3.2)
        }
        var name = host;
        if (name.StartsWith('['))
        {
            var close = name.IndexOf(']', StringComparison.Ordinal);
            name = close < 0 ? name : name[1..close];
        }
        else if (name.LastIndexOf(':') is var colon and > 0)
        {
            name = name[..colon];
        }
        if (string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        return IPAddress.TryParse(name, out var address) && IsLoopback(address);
    }
}
