using System.Net;

namespace Failmail.Smtp;

// --allow-from CIDR[,CIDR...] (Postfix's mynetworks): the client networks that may send.
// A bare address is one host (/32, /128); an IPv4 client seen as ::ffff:a.b.c.d matches its
// IPv4 network. Loopback is always in: local cron and sendmail keep working whatever the list.
// Empty (the default) admits every client, as failmail did.
internal sealed class ClientNetworks
{
    private readonly IPNetwork[] _networks;

    private ClientNetworks(IPNetwork[] networks)
    {
        _networks = networks;
    }

    public static ClientNetworks Any { get; } = new([]);

    // True when --allow-from was given: clients outside it are refused or must AUTH.
    public bool IsRestricted => _networks.Length > 0;

    // Throws ArgumentException naming the flag and the bad entry.
    public static ClientNetworks Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var networks = new List<IPNetwork>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            networks.Add(ParseOne(part));
        }
        return networks.Count == 0 ? Any : new ClientNetworks([.. networks]);
    }

    public bool Contains(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (!IsRestricted || IPAddress.IsLoopback(address))
        {
            return true;
        }
        foreach (var network in _networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }
        return false;
    }

    private static IPNetwork ParseOne(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return IPAddress.TryParse(text, out var host)
                ? new IPNetwork(host, host.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)
                : throw new ArgumentException($"--allow-from: not an address or CIDR network: \"{text}\"");
        }
        if (!IPAddress.TryParse(text.AsSpan(0, slash), out var address)
            || !int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var prefix)
            || prefix > (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
        {
            throw new ArgumentException($"--allow-from: not an address or CIDR network: \"{text}\"");
        }
        // Host bits past the prefix are dropped, as Postfix's mynetworks does: 10.1.2.3/8 is 10/8.
        return new IPNetwork(Mask(address, prefix), prefix);
    }

    private static IPAddress Mask(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
        return new IPAddress(bytes);
    }
}
