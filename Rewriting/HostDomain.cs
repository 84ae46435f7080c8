using System.Net;

namespace Failmail.Rewriting;

// The default of --qualify-domain: the host's fully qualified name when the resolver knows
// it within a second (/etc/hosts usually answers at once), else the plain host name.
// A cron job must never stall on a broken resolver, hence the bound.
internal static class HostDomain
{
    private static readonly TimeSpan LookupLimit = TimeSpan.FromSeconds(1);

    public static string Resolve(string configured)
    {
        ArgumentNullException.ThrowIfNull(configured);
        if (configured.Length > 0)
        {
            return configured;
        }
        var host = FailmailOptions.HostName();
        if (host == "localhost" || host.Contains('.', StringComparison.Ordinal))
        {
            return host;
        }
        try
        {
            var lookup = Dns.GetHostEntryAsync(host);
            if (lookup.Wait(LookupLimit) && lookup.Result.HostName.Contains('.', StringComparison.Ordinal))
            {
                return lookup.Result.HostName;
            }
        }
        catch (AggregateException)
        {
            // No resolver answer: the short name it is.
        }
        return host;
    }
}
