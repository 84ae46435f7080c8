using Failmail.Config;

namespace Failmail.Tests.Config;

public class FlagSuggestionTests
{
    private static readonly string[] Known = ["relay-addr", "relay-user", "bind-addr", "bind-http", "wait-period", "max-wait", "fail-dir", "poll"];

    [Theory]
    [InlineData("relay-addr", "relay-adr")]
    [InlineData("relay-addr", "relay-adddr")]
    [InlineData("relay-addr", "relya-addr")]
    [InlineData("relay-addr", "relay-host")]
    [InlineData("bind-addr", "bind-address")]
    [InlineData("fail-dir", "fail")]
    [InlineData("wait-period", "wait-perdio")]
    [InlineData("poll", "pol")]
    public void TyposAndHalfRememberedNamesFindTheirFlag(string expected, string typed)
    {
        Assert.Equal(expected, FlagSuggestion.Closest(typed, Known));
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("completely-different")]
    [InlineData("x")]
    public void ANameFarFromEveryFlagGetsNoSuggestion(string typed)
    {
        Assert.Null(FlagSuggestion.Closest(typed, Known));
    }

    [Theory]
    [InlineData(0, "abc", "abc")]
    [InlineData(1, "abc", "acb")]
    [InlineData(1, "abc", "ab")]
    [InlineData(1, "abc", "abd")]
    [InlineData(3, "", "abc")]
    public void DistanceCountsEditsWithASwapAsOne(int expected, string a, string b)
    {
        Assert.Equal(expected, FlagSuggestion.Distance(a, b));
    }
}
