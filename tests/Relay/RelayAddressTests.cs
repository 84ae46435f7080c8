using Failmail.Relay;

namespace Failmail.Tests.Relay;

public class RelayAddressTests
{
    [Theory]
    [InlineData("localhost:25", "localhost", 25)]
    [InlineData("smtp.example.com:587", "smtp.example.com", 587)]
    [InlineData("smtp.example.com", "smtp.example.com", 25)]
    [InlineData("127.0.0.1:2525", "127.0.0.1", 2525)]
    [InlineData("[::1]:2525", "::1", 2525)]
    [InlineData("[::1]", "::1", 25)]
    public void ParsesHostAndPortWithPort25AsDefault(string value, string host, int port)
    {
        Assert.True(RelayAddress.TryParse(value, out var address, out var error), error);
        Assert.Equal(new RelayAddress(host, port), address);
    }

    [Theory]
    [InlineData("")]
    [InlineData(":25")]
    [InlineData("host:")]
    [InlineData("host:0")]
    [InlineData("host:65536")]
    [InlineData("host:smtp")]
    [InlineData("::1:25")]
    [InlineData("[::1")]
    [InlineData("[::1]25")]
    public void RejectsMalformedAddresses(string value)
    {
        Assert.False(RelayAddress.TryParse(value, out _, out var error));
        Assert.NotEmpty(error);
    }
}
