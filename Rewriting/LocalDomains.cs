namespace Failmail.Rewriting;

// --local-domains (Postfix's mydestination): the domains whose addresses are this host's
// local names, so root@localhost and root@web-3 go through the aliases as root does. Empty
// means the short host name and the fully qualified one. localhost and --qualify-domain are
// always among them: nothing but this host is at localhost, and a bare name qualified with
// --qualify-domain must stay local.
internal static class LocalDomains
{
    public static IReadOnlySet<string> Resolve(string configured, string qualifyDomain)
    {
        ArgumentNullException.ThrowIfNull(configured);
        ArgumentNullException.ThrowIfNull(qualifyDomain);
        var domains = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { Normalize(qualifyDomain), "localhost" };
        if (configured.Trim().Length == 0)
        {
            var host = FailmailOptions.HostName();
            domains.Add(Normalize(host));
            domains.Add(Normalize(host.Split('.')[0]));
            // Resolve with nothing configured gives the FQDN (a bounded lookup).
            domains.Add(Normalize(HostDomain.Resolve("")));
            return domains;
        }
        foreach (var part in configured.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part.Contains('@', StringComparison.Ordinal) || part.Any(char.IsWhiteSpace))
            {
                throw new ArgumentException($"--local-domains: not a domain: \"{part}\"");
            }
            domains.Add(Normalize(part));
        }
        return domains;
    }

    // The set holds domains without a final dot; MailAddress.DomainEquals ignores it too.
    public static string Normalize(string domain) => domain.TrimEnd('.');
}
