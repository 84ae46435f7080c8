using System.Net;
using Failmail.Smtp;

namespace Failmail.Tests.Smtp;

public class ClientNetworksTests
{
    [Theory]
    [InlineData("10.1.2.3", true)]
    [InlineData("10.255.0.1", true)]
    [InlineData("192.0.2.7", true)]
    [InlineData("::ffff:192.0.2.7", true)]
    [InlineData("2001:db8::5", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("11.0.0.1", false)]
    [InlineData("192.0.2.8", false)]
    [InlineData("2001:db9::5", false)]
    public void ListedNetworksHostsAndLoopbackAreIn(string address, bool expected)
    {
        var networks = ClientNetworks.Parse("10.0.0.0/8, 192.0.2.7,2001:db8::/32");
        Assert.True(networks.IsRestricted);
        Assert.Equal(expected, networks.Contains(IPAddress.Parse(address)));
    }

    [Fact]
    public void HostBitsPastThePrefixAreDropped()
    {
        Assert.True(ClientNetworks.Parse("10.1.2.3/8").Contains(IPAddress.Parse("10.200.0.1")));
    }

    [Theory]
    [InlineData("0.0.0.0", false, "", true)]
    [InlineData("::", false, "", true)]
    [InlineData("192.0.2.2", false, "", true)]
    [InlineData("127.0.0.1", false, "", false)]
    [InlineData("::1", false, "", false)]
    [InlineData("0.0.0.0", true, "", false)]
    [InlineData("0.0.0.0", false, "10.0.0.0/8", false)]
    public void TheListenerWarnsWhenBoundPastLoopbackWithNeitherGate(string address, bool credentials, string allowFrom, bool warns)
    {
        Assert.Equal(warns, SmtpListener.IsOpenToAnyClient(new IPEndPoint(IPAddress.Parse(address), 25), credentials, ClientNetworks.Parse(allowFrom)));
    }

    [Fact]
    public void AnEmptyListAdmitsEveryone()
    {
        var networks = ClientNetworks.Parse(" ");
        Assert.False(networks.IsRestricted);
        Assert.True(networks.Contains(IPAddress.Parse("203.0.113.9")));
    }

    [Theory]
    [InlineData("10.0.0.0/33", "--allow-from: not an address or CIDR network: \"10.0.0.0/33\"")]
    [InlineData("example.com", "--allow-from: not an address or CIDR network: \"example.com\"")]
    [InlineData("10.0.0.0/x", "--allow-from: not an address or CIDR network: \"10.0.0.0/x\"")]
    public void BadEntriesNameThemselves(string value, string expected)
    {
        Assert.Equal(expected, Assert.Throws<ArgumentException>(() => ClientNetworks.Parse(value)).Message);
    }
}
