using Failmail.Sendmail;

namespace Failmail.Tests.Sendmail;

public sealed class SendmailArgumentsTests
{
    private static SendmailArguments Parse(params string[] args)
    {
        Assert.True(SendmailArguments.TryParse(args, out var result, out var error), error);
        return result;
    }

    private static string Error(params string[] args)
    {
        Assert.False(SendmailArguments.TryParse(args, out _, out var error));
        return error;
    }

    [Fact]
    public void CronsCommandLine()
    {
        // Debian cron: sendmail -FCronDaemon -i -B8BITMIME -oem root
        var args = Parse("-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root");
        Assert.Equal("CronDaemon", args.FullName);
        Assert.True(args.IgnoreDots);
        Assert.False(args.RecipientsFromHeaders);
        Assert.Equal(["root"], args.Recipients);
        Assert.Empty(args.Warnings);
    }

    [Fact]
    public void SudoAndMailxCommandLines()
    {
        // sudo: sendmail -t ; mailx: sendmail -i -- rcpt ; logwatch: sendmail -t -oi
        Assert.True(Parse("-t").RecipientsFromHeaders);
        var mailx = Parse("-oi", "-f", "me@example.com", "--", "-odd-name", "b@example.com");
        Assert.True(mailx.IgnoreDots);
        Assert.Equal("me@example.com", mailx.Sender);
        Assert.Equal(["-odd-name", "b@example.com"], mailx.Recipients);
    }

    [Fact]
    public void ValuesMayBeAttachedOrSeparate()
    {
        Assert.Equal("a@x.org", Parse("-fa@x.org", "r").Sender);
        Assert.Equal("a@x.org", Parse("-f", "a@x.org", "r").Sender);
        Assert.Equal("a@x.org", Parse("-r", "a@x.org", "r").Sender);
        Assert.Equal("Cron Daemon", Parse("-F", "Cron Daemon", "r").FullName);
        Assert.Equal("", Parse("-f", "", "r").Sender);
    }

    [Fact]
    public void FlagsEndAtTheFirstRecipient()
    {
        Assert.Equal(["root", "-i"], Parse("root", "-i").Recipients);
        Assert.False(Parse("root", "-i").IgnoreDots);
    }

    [Fact]
    public void CommaSeparatedRecipientsAreSplit()
    {
        Assert.Equal(["a@x.org", "b@y.org", "root"], Parse("a@x.org, b@y.org", "root").Recipients);
    }

    [Fact]
    public void HistoricalFlagsAreIgnoredWithAWarning()
    {
        var args = Parse("-oQ/var/spool", "-v", "-O", "DeliveryMode=b", "-NSUCCESS", "-R", "hdrs", "-X", "/tmp/log", "-q15m", "-odi", "-oee", "root");
        Assert.Equal(["root"], args.Recipients);
        Assert.Equal(7, args.Warnings.Count);
        Assert.Contains("ignoring option -oQ/var/spool", args.Warnings);
        Assert.Contains("ignoring option -X", args.Warnings);
        Assert.Contains(args.Warnings, w => w.StartsWith("ignoring option -q15m", StringComparison.Ordinal));
        Assert.True(args.QueueRunOnly);
    }

    [Theory]
    [InlineData("unknown option -z", "-z", "root")]
    [InlineData("option -f needs a value", "-f")]
    [InlineData("option -F needs a value", "-i", "-F")]
    [InlineData("mode -bp is not supported (only -bm, deliver mail)", "-bp")]
    [InlineData("unknown option -tx", "-tx", "root")]
    public void BadFlagsAreUsageErrors(string expected, params string[] args)
    {
        Assert.Equal(expected, Error(args));
    }

    [Fact]
    public void ModeBmIsTheDefault()
    {
        Assert.Equal(["root"], Parse("-bm", "root").Recipients);
    }
}
