using System.Text;
using Failmail.Batching;
using MimeKit;

namespace Failmail.Tests.Batching;

public class MessageTextTests
{
    private static string FullBody(byte[] bytes, int maxChars = MessageText.MaxBodyChars) =>
        MessageText.Body(MimeMessage.Load(new MemoryStream(bytes)), maxChars);

    // The plain-body path must show exactly what MimeKit's TextBody gives.
    [Theory]
    [InlineData("Subject: x\r\n\r\nbody\r\n")]
    [InlineData("Subject: x\r\n\r\nbody without a line end")]
    [InlineData("Subject: x\r\n\r\n")]
    [InlineData("Subject: x\r\n\r\n\r\n")]
    [InlineData("Subject: x\r\n\r\nline1\r\nline2\r\n\r\n\r\n")]
    [InlineData("Subject: x\r\n\r\n  leading and trailing spaces  \r\n\ttab\r\n")]
    [InlineData("Subject: x\r\n\r\nform\ffeed and \u007f delete and \u0001 control\r\n")]
    [InlineData("Subject: x\r\n\r\n.leading dot\r\n..two dots\r\nFrom the start\r\n")]
    [InlineData("Subject: x\r\n\r\n<b>looks like html</b> &amp; entities\r\n")]
    [InlineData("Subject: x\r\n\r\n=?utf-8?q?not=20decoded?= =3D qp-looking\r\n")]
    [InlineData("From: <app@example.com>\r\nTo: <ops@example.com>\r\nMIME-Version: 1.0\r\nSubject: bench alert\r\n\r\n1XXXX\r\n2XXXX\r\n")]
    public void PlainBodyMatchesMimeKit(string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        Assert.True(MessageText.TryPlainBody(bytes, new List<HeaderSpan>(), out var body));
        Assert.Equal(FullBody(bytes), body);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(MessageText.MaxBodyChars)]
    public void PlainBodyIsCutLikeTheFullParse(int maxChars)
    {
        var bytes = Encoding.ASCII.GetBytes("Subject: x\r\n\r\n" + string.Concat(Enumerable.Repeat("0123456789\r\n", 7000)));
        Assert.True(MessageText.TryPlainBody(bytes, new List<HeaderSpan>(), out var body, maxChars));
        Assert.Equal(FullBody(bytes, maxChars), body);
        Assert.Contains("[body truncated: ", body, StringComparison.Ordinal);
    }

    // Only the head of a long plain body is decoded: the cut, the note's count and form feeds
    // (which become line ends) match the full parse at every alignment of CRLF with the cut.
    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(1000)]
    public void APlainBodyReadOnlyAsFarAsShownMatchesMimeKit(int maxChars)
    {
        var bytes = Encoding.ASCII.GetBytes("Subject: x\r\n\r\n" + string.Concat(Enumerable.Repeat("ab\r\n\f\r\n", 50_000)));
        Assert.True(MessageText.TryPlainBody(bytes, new List<HeaderSpan>(), out var body, maxChars));
        Assert.Equal(FullBody(bytes, maxChars), body);
    }

    [Fact]
    public void APlainBodyInAReusedBufferEndsAtItsLength()
    {
        var message = Encoding.ASCII.GetBytes("Subject: x\r\n\r\nthe body\r\n");
        var buffer = new byte[message.Length + 100];
        buffer.AsSpan().Fill((byte)'z');
        message.CopyTo(buffer, 0);
        Assert.True(MessageText.TryPlainBody(buffer, message.Length, new List<HeaderSpan>(), out var body));
        Assert.Equal("the body\n", body);
    }

    // Anything MimeKit decodes (a declared type, charset or transfer encoding, 8-bit bytes) or
    // whose line ends it might treat its own way goes through MimeKit.
    [Theory]
    [InlineData("Subject: x\r\nContent-Type: text/plain\r\n\r\nbody\r\n")]
    [InlineData("Subject: x\r\ncontent-transfer-encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n")]
    [InlineData("Subject: x\r\nContent-Disposition: attachment\r\n\r\nbody\r\n")]
    [InlineData("Subject: x\r\n\r\ncaf\u00e9 in UTF-8\r\n")]
    [InlineData("Subject: x\r\n\r\nNUL \0 inside\r\n")]
    [InlineData("Subject: x\r\n\r\nbare\nLF\r\n")]
    [InlineData("Subject: x\r\n\r\nbare\rCR\r\n")]
    [InlineData("Subject: x\r\n\r\nends with CR\r")]
    [InlineData("Subject: x\n\nbare LF header block\n")]
    public void OtherBodiesAreLeftToMimeKit(string text)
    {
        Assert.False(MessageText.TryPlainBody(Encoding.UTF8.GetBytes(text), new List<HeaderSpan>(), out _));
    }
}
