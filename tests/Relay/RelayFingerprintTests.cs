using Failmail.Relay;

namespace Failmail.Tests.Relay;

public class RelayFingerprintTests
{
    private const string Hex = "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF";

    [Theory]
    [InlineData(Hex)]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF")]
    public void AcceptsHexWithOrWithoutColonsInAnyCase(string value)
    {
        Assert.True(RelayFingerprint.TryParse(value, out var pins, out var error), error);
        Assert.Equal(Convert.FromHexString(Hex), Assert.Single(pins));
    }

    [Fact]
    public void SeveralPinsAreSeparatedByCommas()
    {
        Assert.True(RelayFingerprint.TryParse(Hex + ", " + Hex.ToLowerInvariant().Replace('a', 'b'), out var pins, out _));
        Assert.Equal(2, pins.Count);
    }

    [Theory]
    [InlineData("0123")]
    [InlineData(Hex + "00")]
    [InlineData("G123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF")]
    [InlineData(Hex + ",")]
    public void RejectsAnythingButSha256Hex(string value)
    {
        Assert.False(RelayFingerprint.TryParse(value, out _, out var error));
        Assert.Contains("SHA-256", error, StringComparison.Ordinal);
    }

    [Fact]
    public void FormatsAsOpensslDoes()
    {
        Assert.Equal("01:23:AB", RelayFingerprint.Format([0x01, 0x23, 0xAB]));
    }
}
