using System.Net;

namespace Failmail.Tests;

public sealed class FailmailOptionsTests
{
    // The short host name is not a deliverable domain: the default --from is the FQDN when
    // the resolver knows one (as `hostname -f`), else the host name.
    [Fact]
    public void TheDefaultFromIsFailmailAtTheFullyQualifiedHostName()
    {
        var host = Dns.GetHostName();
        var resolved = host.Contains('.', StringComparison.Ordinal) ? host : Dns.GetHostEntry(host).HostName;
        var expected = resolved.Contains('.', StringComparison.Ordinal) ? resolved : host;
        Assert.Equal("failmail@" + expected, new FailmailOptions().From);
        Assert.Equal(expected, FailmailOptions.FullyQualifiedHostName());
        Assert.Equal(expected, Failmail.Rewriting.HostDomain.Resolve(""));
        Assert.Equal("mail.example.com", Failmail.Rewriting.HostDomain.Resolve("mail.example.com"));
    }
}
