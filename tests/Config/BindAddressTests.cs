using System.Net.Sockets;
using Failmail.Config;

namespace Failmail.Tests.Config;

// --bind-addr and --bind-http mean the same thing by the same text (issue 12: they disagreed
// on "*", on which address of a name to take and on the exception).
public class BindAddressTests
{
    private static readonly string AnyInterface = Socket.OSSupportsIPv6 ? "[::]" : "0.0.0.0";

    [Theory]
    [InlineData("localhost:2525", "127.0.0.1:2525")]
    [InlineData("LOCALHOST:8025", "127.0.0.1:8025")]
    [InlineData("127.0.0.1:25", "127.0.0.1:25")]
    [InlineData("127.0.0.1:0", "127.0.0.1:0")]
    [InlineData("[::1]:2525", "[::1]:2525")]
    public void BothFlagsResolveAddressesAsGoWould(string value, string expected)
    {
        Assert.Equal(expected, BindAddress.Resolve("--bind-addr", value).ToString());
        Assert.Equal(expected, BindAddress.Resolve("--bind-http", value).ToString());
    }

    [Theory]
    [InlineData(":2525")]
    [InlineData("*:2525")]
    [InlineData("[]:2525")]
    public void AnEmptyHostOrAStarIsEveryInterfaceForBothFlags(string value)
    {
        Assert.Equal(AnyInterface + ":2525", BindAddress.Resolve("--bind-addr", value).ToString());
        Assert.Equal(AnyInterface + ":2525", BindAddress.Resolve("--bind-http", value).ToString());
    }

    [Theory]
    [InlineData("8025")]
    [InlineData("localhost:")]
    [InlineData("localhost:http")]
    [InlineData("localhost:70000")]
    [InlineData("localhost:-1")]
    public void MalformedValuesAreOneFormatExceptionNamingTheFlag(string value)
    {
        var error = Assert.Throws<FormatException>(() => BindAddress.Parse("--bind-http", value));
        Assert.Equal($"--bind-http {value}: expected host:port", error.Message);
        Assert.StartsWith("--bind-addr ", Assert.Throws<FormatException>(() => BindAddress.Parse("--bind-addr", value)).Message, StringComparison.Ordinal);
    }
}
