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

    [Theory]
    [InlineData("smtp://mail.example.com", "mail.example.com", 25, "StartTlsWhenOffered")]
    [InlineData("smtp+starttls://mail.example.com", "mail.example.com", 587, "StartTlsRequired")]
    [InlineData("smtps://mail.example.com", "mail.example.com", 465, "Implicit")]
    [InlineData("smtp+plain://mail.example.com", "mail.example.com", 25, "None")]
    [InlineData("smtps://mail.example.com:2465", "mail.example.com", 2465, "Implicit")]
    [InlineData("smtp+starttls://mail.example.com:25", "mail.example.com", 25, "StartTlsRequired")]
    [InlineData("smtps://mail.example.com:587/", "mail.example.com", 587, "Implicit")]
    [InlineData("SMTPS://[::1]:1465", "::1", 1465, "Implicit")]
    [InlineData("smtp+plain://127.0.0.1:2525", "127.0.0.1", 2525, "None")]
    public void UrlsPickTheTlsModeAndTheirOwnDefaultPort(string value, string host, int port, string tls)
    {
        Assert.True(RelayAddress.TryParse(value, out var address, out var error), error);
        Assert.Equal(new RelayAddress(host, port, Enum.Parse<RelayTlsMode>(tls)), address);
    }

    [Fact]
    public void APlainHostPortMeansStartTlsWhenOffered()
    {
        Assert.True(RelayAddress.TryParse("mail.example.com:587", out var address, out _));
        Assert.Equal(RelayTlsMode.StartTlsWhenOffered, address.Tls);
        Assert.Equal("smtp://mail.example.com:587", address.Url);
    }

    [Theory]
    [InlineData("smtps://[::1]:465", "smtps://[::1]:465")]
    [InlineData("smtp+starttls://Mail.Example.com", "smtp+starttls://Mail.Example.com:587")]
    public void UrlIsCanonical(string value, string url)
    {
        Assert.True(RelayAddress.TryParse(value, out var address, out _));
        Assert.Equal(url, address.Url);
    }

    [Theory]
    [InlineData("submission://mail.example.com", "unknown scheme")]
    [InlineData("smtp://", "missing host")]
    [InlineData("smtps://mail.example.com:0", "port")]
    [InlineData("smtp://mail.example.com/path", "without a path")]
    [InlineData("smtp://mail.example.com?tls=1", "without a path")]
    public void RejectsMalformedUrls(string value, string reason)
    {
        Assert.False(RelayAddress.TryParse(value, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void CredentialsInTheUrlAreRejectedWithoutRepeatingThem()
    {
        Assert.False(RelayAddress.TryParse("smtps://alerts:hunter2@mail.example.com", out _, out var error));
        Assert.Contains("--relay-password-file", error, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.1.2.3", true)]
    [InlineData("::1", true)]
    [InlineData("mail.example.com", false)]
    [InlineData("10.0.0.1", false)]
    public void LoopbackIsLocalhostOrALoopbackAddress(string host, bool loopback)
    {
        Assert.Equal(loopback, new RelayAddress(host, 25).IsLoopback);
    }
}
