namespace Failmail.Rewriting;

// The default of --qualify-domain: the host's fully qualified name when the resolver knows
// it within a second, else the plain host name (FailmailOptions.FullyQualifiedHostName, which
// the default --from uses too).
internal static class HostDomain
{
    public static string Resolve(string configured)
    {
        ArgumentNullException.ThrowIfNull(configured);
        return configured.Length > 0 ? configured : FailmailOptions.FullyQualifiedHostName();
    }
}
