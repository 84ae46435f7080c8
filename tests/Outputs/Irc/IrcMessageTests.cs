using Failmail.Outputs.Irc;
using Xunit;

namespace Failmail.Tests.Outputs.Irc;

public class IrcMessageTests
{
    [Fact]
    public void PrefixCommandParamsAndTrailingAreSplit()
    {
        Assert.True(IrcMessage.TryParse(":irc.test 001 bot :Welcome to the net\r\n", out var message));
        Assert.Equal("irc.test", message.Prefix);
        Assert.Equal("001", message.Command);
        Assert.Equal(["bot", "Welcome to the net"], message.Parameters);
    }

    [Fact]
    public void CommandIsUpperCasedAndTagsAreSkipped()
    {
        Assert.True(IrcMessage.TryParse("@time=2026-01-01T00:00:00Z ping :tok", out var message));
        Assert.Equal("PING", message.Command);
        Assert.Equal("tok", message.Last);
    }

    [Fact]
    public void ParametersAreBoundedAtFifteen()
    {
        Assert.True(IrcMessage.TryParse("X " + string.Join(' ', Enumerable.Range(0, 40)), out var message));
        Assert.Equal(15, message.Parameters.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData(":prefixonly")]
    [InlineData("@tagsonly")]
    [InlineData(": ")]
    public void MalformedLinesAreRefused(string line) => Assert.False(IrcMessage.TryParse(line, out _));
}
