using System.Text;
using Failmail.Sendmail;

namespace Failmail.Tests.Sendmail;

public sealed class SpoolFileTests
{
    [Fact]
    public void EncodeThenDecodeGivesTheEnvelopeAndTheExactBytes()
    {
        var bytes = "X-Other: 1\r\nSubject: s\r\n\r\nbody\r\n"u8.ToArray();
        var encoded = SpoolFile.Encode(new SubmittedMessage("", ["a@example.com", "b@example.com"], bytes));
        Assert.StartsWith("X-Failmail-Envelope-From: <>\r\nX-Failmail-Envelope-To: <a@example.com>\r\n", Encoding.UTF8.GetString(encoded), StringComparison.Ordinal);
        Assert.True(SpoolFile.TryDecode(encoded, out var decoded));
        Assert.NotNull(decoded);
        Assert.Equal("", decoded.From);
        Assert.Equal(["a@example.com", "b@example.com"], decoded.Recipients);
        Assert.Equal(bytes, decoded.Bytes);
    }

    [Theory]
    [InlineData("Subject: no envelope\r\n\r\nb\r\n")]
    [InlineData("X-Failmail-Envelope-From: <a@b.c>\r\nSubject: no recipients\r\n\r\n")]
    [InlineData("X-Failmail-Envelope-From: a@b.c\r\nX-Failmail-Envelope-To: <x@y.z>\r\n\r\n")]
    public void FilesWithoutAValidEnvelopeAreRefused(string file)
    {
        Assert.False(SpoolFile.TryDecode(Encoding.UTF8.GetBytes(file), out _));
    }
}
