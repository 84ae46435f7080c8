using System.Text.RegularExpressions;
using Failmail.Maildir;

namespace Failmail.Tests.Maildir;

public class MaildirNameTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    [Fact]
    public void NamesHaveFailmailShapeWithACounterAndARandomPart()
    {
        var name = new MaildirName().Next(Now);
        Assert.Matches(new Regex($@"^1700000000\.{Environment.ProcessId}_1R[0-9a-f]{{8}}\.[^/:]+$"), name);
    }

    [Fact]
    public void TwoStoresInTheSameProcessAndSecondNeverShareAName()
    {
        // Same pid, same second, same counter: what a restart under a reused pid looks like.
        var first = new MaildirName();
        var second = new MaildirName();
        Assert.NotEqual(first.Next(Now), second.Next(Now));
        Assert.NotEqual(first.Next(Now), first.Next(Now));
    }

    [Theory]
    [InlineData("1.2_3.h:2,S", true)]
    [InlineData(".x.swp", true)]
    [InlineData("", false)]
    [InlineData("..", false)]
    [InlineData("../x", false)]
    [InlineData("a/b", false)]
    public void IdsThatCouldLeaveTheDirectoryAreInvalid(string id, bool valid) =>
        Assert.Equal(valid, MaildirName.IsValidId(id));
}
