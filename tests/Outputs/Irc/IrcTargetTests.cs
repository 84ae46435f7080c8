using Failmail.Outputs.Irc;
using Xunit;

namespace Failmail.Tests.Outputs.Irc;

public class IrcTargetTests
{
    [Fact]
    public void PlainUrlGivesHashChannelAndDefaultPort()
    {
        Assert.True(IrcTarget.TryParse("irc://alerts@irc.example.net/ops", out var target, out _));
        Assert.Equal(new IrcTarget("irc.example.net", 6667, false, "alerts", null, "#ops", null), target);
    }

    [Fact]
    public void IrcsDefaultsTo6697AndKeepsPasswordAndKey()
    {
        Assert.True(IrcTarget.TryParse("ircs://bot:s%3Acret@127.0.0.1/%23ops?key=k1", out var target, out _));
        Assert.Equal(new IrcTarget("127.0.0.1", 6697, true, "bot", "s:cret", "#ops", "k1"), target);
    }

    [Fact]
    public void AmpersandChannelIsKeptAndPortIsRead()
    {
        Assert.True(IrcTarget.TryParse("irc://n@h:7000/%26local", out var target, out _));
        Assert.Equal("&local", target!.Channel);
        Assert.Equal(7000, target.Port);
    }

    [Fact]
    public void MissingNickIsFailmail()
    {
        Assert.True(IrcTarget.TryParse("irc://h/ops", out var target, out _));
        Assert.Equal("failmail", target!.Nick);
    }

    [Theory]
    [InlineData("http://h/ops")]
    [InlineData("irc://n@h/")]
    [InlineData("irc://n@h/a,b")]
    [InlineData("irc://n@h/a%0D%0AQUIT")]
    [InlineData("irc://9nick@h/ops")]
    [InlineData("irc://ni%20ck@h/ops")]
    [InlineData("irc://n@h/ops?key=a%20b")]
    [InlineData("irc://n:p%0A@h/ops")]
    public void BadUrlsAreRefusedWithAReason(string url)
    {
        Assert.False(IrcTarget.TryParse(url, out var target, out var error));
        Assert.Null(target);
        Assert.NotEmpty(error);
    }
}
