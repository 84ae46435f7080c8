using System.Text;
using Failmail.Sendmail;

namespace Failmail.Tests.Sendmail;

public sealed class SpoolFileTests
{
    private static readonly SpoolLimits Limits = SpoolLimits.From(new FailmailOptions());

    [Fact]
    public void EncodeThenDecodeGivesTheEnvelopeAndTheExactBytes()
    {
        var bytes = "X-Other: 1\r\nSubject: s\r\n\r\nbody\r\n"u8.ToArray();
        var encoded = SpoolFile.Encode(new SubmittedMessage("", ["a@example.com", "b@example.com"], bytes));
        Assert.StartsWith("X-Failmail-Envelope-From: <>\r\nX-Failmail-Envelope-To: <a@example.com>\r\n", Encoding.UTF8.GetString(encoded), StringComparison.Ordinal);
        Assert.True(SpoolFile.TryDecode(encoded, Limits, out var decoded, out _));
        Assert.NotNull(decoded);
        Assert.Equal("", decoded.From);
        Assert.Equal(["a@example.com", "b@example.com"], decoded.Recipients);
        Assert.Equal(bytes, decoded.Bytes);
    }

    [Theory]
    [InlineData("Subject: no envelope\r\n\r\nb\r\n")]
    [InlineData("X-Failmail-Envelope-From: <a@b.c>\r\nSubject: no recipients\r\n\r\n")]
    [InlineData("X-Failmail-Envelope-From: a@b.c\r\nX-Failmail-Envelope-To: <x@y.z>\r\n\r\n")]
    [InlineData("X-Failmail-Envelope-From: <a@b.c>\r\nX-Failmail-Envelope-To: <a@y.test>, <b@y.test>\r\n\r\n")]
    [InlineData("X-Failmail-Envelope-From: <a@b.c>\r\nX-Failmail-Envelope-To: <a b@y.test>\r\n\r\n")]
    [InlineData("X-Failmail-Envelope-From: <a@b.c>\r\nX-Failmail-Envelope-To: <@>\r\n\r\n")]
    public void FilesWithoutAValidEnvelopeAreRefused(string file)
    {
        Assert.False(SpoolFile.TryDecode(Encoding.UTF8.GetBytes(file), Limits, out _, out var reason));
        Assert.NotEqual("", reason);
    }

    [Fact]
    public void TheMessageMayHaveMaxMessageSizeOctetsAndNoMore()
    {
        var limits = Limits with { MaxMessageSize = 100 };
        var envelope = "X-Failmail-Envelope-From: <a@b.c>\r\nX-Failmail-Envelope-To: <x@y.z>\r\n";
        Assert.True(SpoolFile.TryDecode(Encoding.ASCII.GetBytes(envelope + new string('x', 100)), limits, out _, out _));
        Assert.False(SpoolFile.TryDecode(Encoding.ASCII.GetBytes(envelope + new string('x', 101)), limits, out _, out var reason));
        Assert.Equal("message of 101 octets is larger than --max-message-size 100 (SMTP answers 552)", reason);
    }

    [Fact]
    public void RecipientsUpToTheSmtpLimitAreTakenOneMoreIsNot()
    {
        string File(int recipients) => "X-Failmail-Envelope-From: <a@b.c>\r\n"
            + string.Concat(Enumerable.Range(0, recipients).Select(i => $"X-Failmail-Envelope-To: <r{i}@y.test>\r\n")) + "\r\n";
        Assert.Equal(100, Limits.MaxRecipients);
        Assert.True(SpoolFile.TryDecode(Encoding.ASCII.GetBytes(File(100)), Limits, out var message, out _));
        Assert.Equal(100, message!.Recipients.Count);
        Assert.False(SpoolFile.TryDecode(Encoding.ASCII.GetBytes(File(5000)), Limits, out _, out var reason));
        Assert.Equal("more than 100 recipients (--max-recipients)", reason);
    }

    [Fact]
    public void TheFileSizeAllowanceCoversTheEnvelopeOfMaxRecipients()
    {
        // 10 MiB plus 101 lines of the 512-octet command line, the field name and CRLF.
        Assert.Equal(10L * 1024 * 1024 + 101 * (512 + 32 + 2), Limits.MaxFileSize);
        Assert.Equal(long.MaxValue, SpoolLimits.From(new FailmailOptions { MaxMessageSize = 0 }).MaxFileSize);
    }
}
