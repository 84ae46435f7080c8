using System.Buffers;
using System.Text;
using Failmail.Smtp;
using Xunit;

namespace Failmail.Tests.Smtp;

public class SmtpReplyTests
{
    [Theory]
    [InlineData(250, "2.0.0 OK")]
    [InlineData(250, "a\nb\nc")]
    [InlineData(334, "")]
    [InlineData(250, "trailing\n")]
    [InlineData(250, "\n\n")]
    [InlineData(220, "h\u00f6st.example ESMTP \u2603 failmail")]
    [InlineData(220, "lone \ud800 surrogate")]
    [InlineData(-1, "negative")]
    [InlineData(int.MaxValue, "huge")]
    public void WriteToWritesTheUtf8OfToString(int code, string text)
    {
        var reply = new SmtpReply(code, text);
        var writer = new ArrayBufferWriter<byte>();

        reply.WriteTo(writer);

        Assert.Equal(Encoding.UTF8.GetBytes(reply.ToString()), writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteToAppendsToWhatIsAlreadyBuffered()
    {
        var writer = new ArrayBufferWriter<byte>(1);

        SmtpReply.SenderOk.WriteTo(writer);
        new SmtpReply(250, string.Join('\n', Enumerable.Repeat(new string('x', 300), 20))).WriteTo(writer);

        var expected = SmtpReply.SenderOk.ToString() + new SmtpReply(250, string.Join('\n', Enumerable.Repeat(new string('x', 300), 20)));
        Assert.Equal(expected, Encoding.UTF8.GetString(writer.WrittenSpan));
    }
}
