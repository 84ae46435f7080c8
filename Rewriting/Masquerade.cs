namespace Failmail.Rewriting;

// --masquerade-domains a.example.com,example.com: like Postfix's masquerade_domains, an
// address in a strict subdomain of a listed domain gets that domain; the list is tried in
// order, so put the longer domains first (host1.a.example.com → a.example.com).
internal sealed class Masquerade
{
    private readonly List<string> _domains;

    public Masquerade(string domains)
    {
        ArgumentNullException.ThrowIfNull(domains);
        var list = new List<string>();
        foreach (var raw in domains.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var domain = raw.TrimStart('.').TrimEnd('.');
            if (domain.Length == 0 || domain.Any(c => char.IsWhiteSpace(c) || c is '@' or '!' or '/'))
            {
                throw new ArgumentException($"--masquerade-domains: bad domain \"{raw}\"");
            }
            list.Add(domain);
        }
        _domains = list;
    }

    public bool IsEmpty => _domains.Count == 0;

    public string Apply(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (_domains.Count == 0)
        {
            return address;
        }
        var domain = MailAddress.Domain(address).TrimEnd('.');
        if (domain.Length == 0)
        {
            return address;
        }
        foreach (var candidate in _domains)
        {
            if (domain.Length > candidate.Length + 1
                && domain.EndsWith(candidate, StringComparison.OrdinalIgnoreCase)
                && domain[domain.Length - candidate.Length - 1] == '.')
            {
                return MailAddress.WithDomain(address, candidate);
            }
            if (MailAddress.DomainEquals(domain, candidate))
            {
                return address;
            }
        }
        return address;
    }
}
