using System.Text;
using Failmail.Sendmail;

namespace Failmail.Tests.Sendmail;

public sealed class MessagePreparerTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static (SubmittedMessage? Message, int Code, string Error) Prepare(string input, params string[] args)
    {
        Assert.True(SendmailArguments.TryParse(args, out var parsed, out var usage), usage);
        MessagePreparer.TryPrepare(Encoding.UTF8.GetBytes(input.ReplaceLineEndings("\r\n")), parsed, "host1.example.com", "cron", Now,
            out var message, out var code, out var error);
        return (message, code, error);
    }

    private static string Text(SubmittedMessage message) => Encoding.UTF8.GetString(message.Bytes).ReplaceLineEndings("\n");

    [Fact]
    public void DashTTakesToCcAndBccQualifiesThemAndDropsBcc()
    {
        var (message, _, error) = Prepare("To: root, a@example.com\nCc: \"Web\" <www-data>\nBcc: secret@example.org\nSubject: s\n\nbody\n", "-t");
        Assert.NotNull(message);
        Assert.Equal("", error);
        Assert.Equal(["root@host1.example.com", "a@example.com", "www-data@host1.example.com", "secret@example.org"], message.Recipients);
        Assert.DoesNotContain("Bcc", Text(message), StringComparison.Ordinal);
        Assert.Contains("To: root, a@example.com\n", Text(message), StringComparison.Ordinal);
    }

    [Fact]
    public void DashTKeepsABareLocalNameBeforeAQuotedDisplayName()
    {
        // MimeKit alone reads this To as one mailbox named "root, Web", and root's copy was lost.
        var (message, _, error) = Prepare("To: root, \"Web\" <www-data@example.com>\nSubject: s\n\nbody\n", "-t");
        Assert.True(message is not null, error);
        Assert.Equal(["root@host1.example.com", "www-data@example.com"], message.Recipients);
    }

    [Fact]
    public void MissingFromDateAndMessageIdAreAdded()
    {
        var (message, _, _) = Prepare("Subject: s\n\nbody\n", "-F", "Cron Daemon", "root");
        Assert.NotNull(message);
        var text = Text(message);
        Assert.StartsWith("Subject: s\nFrom: Cron Daemon <cron@host1.example.com>\nDate: Fri, 02 Jan 2026 03:04:05 +0000\nMessage-ID: <", text, StringComparison.Ordinal);
        Assert.Contains("@host1.example.com>\n\nbody\n", text, StringComparison.Ordinal);
        Assert.Equal("cron@host1.example.com", message.From);
    }

    [Fact]
    public void ExistingHeadersAreKeptAndDashFSetsTheEnvelopeSender()
    {
        var input = "From: app@example.com\nDate: Thu, 01 Jan 2026 00:00:00 +0000\nMessage-ID: <x@y>\n\nbody\n";
        var (message, _, _) = Prepare(input, "-f", "bounce@example.com", "root");
        Assert.NotNull(message);
        Assert.Equal(input.Replace("\n\nbody", "\n\nbody", StringComparison.Ordinal), Text(message));
        Assert.Equal("bounce@example.com", message.From);
        Assert.Equal("", Prepare(input, "-f", "<>", "root").Message!.From);
    }

    [Fact]
    public void InputWithoutHeadersIsAllBody()
    {
        var (message, _, _) = Prepare("hello: world is not\njust text\n", "root");
        Assert.NotNull(message);
        // "hello: world is not" looks like a field; the next line does not, so the body starts there.
        Assert.EndsWith("\n\njust text\n", Text(message), StringComparison.Ordinal);
        var plain = Prepare("just text\n", "root").Message!;
        Assert.EndsWith(">\n\njust text\n", Text(plain), StringComparison.Ordinal);
    }

    [Fact]
    public void EnvelopeHeadersFromTheInputAreRemoved()
    {
        var (message, _, _) = Prepare("X-Failmail-Envelope-To: <evil@example.com>\nSubject: s\n\nb\n", "root");
        Assert.NotNull(message);
        Assert.DoesNotContain("evil", Text(message), StringComparison.Ordinal);
        Assert.Equal(["root@host1.example.com"], message.Recipients);
    }

    [Fact]
    public void NoRecipientsIsAUsageError()
    {
        var (message, code, error) = Prepare("Subject: s\n\nb\n", "-t");
        Assert.Null(message);
        Assert.Equal(SysExits.Usage, code);
        Assert.StartsWith("no recipients", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnparsableRecipientHeaderIsADataError()
    {
        var (message, code, error) = Prepare("To: a@b@c\nSubject: s\n\nb\n", "-t");
        Assert.Null(message);
        Assert.Equal(SysExits.DataError, code);
        Assert.StartsWith("cannot parse the To header", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ASenderWithTwoDotsIsKeptAndItsFromHeaderIsQuoted()
    {
        // Issue 11: this printed a MimeKit stack trace and exited 1.
        var (message, code, error) = Prepare("Subject: s\n\nbody\n", "-f", "a..b@x.test", "ops@example.com");
        Assert.True(message is not null, error);
        Assert.Equal(0, code);
        Assert.Equal("a..b@x.test", message.From);
        Assert.Contains("From: \"a..b\"@x.test\n", Text(message), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a b@x.test")]
    [InlineData("a@b..c")]
    [InlineData("\"a\rb\"@x.test")]
    public void ASenderTheDaemonWouldRefuseIsAUsageErrorInOneLine(string sender)
    {
        var (message, code, error) = Prepare("Subject: s\n\nbody\n", "-f", sender, "ops@example.com");
        Assert.Null(message);
        Assert.Equal(SysExits.Usage, code);
        Assert.StartsWith("bad sender address", error, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", error, StringComparison.Ordinal);
    }
}
