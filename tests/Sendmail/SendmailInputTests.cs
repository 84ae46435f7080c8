using System.Text;
using Failmail.Sendmail;

namespace Failmail.Tests.Sendmail;

public sealed class SendmailInputTests
{
    private static string Read(string input, bool ignoreDots, long max = 1000) =>
        Encoding.UTF8.GetString(SendmailInput.Read(new MemoryStream(Encoding.UTF8.GetBytes(input)), ignoreDots, max));

    [Fact]
    public void ALoneDotEndsTheMessageWithoutDashI()
    {
        Assert.Equal("Subject: x\r\n\r\nbody\r\n", Read("Subject: x\n\nbody\n.\nignored\n", ignoreDots: false));
        Assert.Equal("a\r\n", Read("a\r\n.\r\nb\r\n", ignoreDots: false));
    }

    [Fact]
    public void WithDashIInputRunsToEndOfFile()
    {
        Assert.Equal("a\r\n.\r\nb\r\n", Read("a\n.\nb", ignoreDots: true));
    }

    [Fact]
    public void DotsThatAreNotAloneStay()
    {
        Assert.Equal("..\r\n. \r\n.x\r\n", Read("..\n. \n.x\n", ignoreDots: false));
    }

    [Fact]
    public void TooLargeInputIsADataError()
    {
        Assert.Throws<InvalidDataException>(() => Read(new string('x', 50) + "\n" + new string('y', 2000), ignoreDots: true, max: 100));
    }
}
