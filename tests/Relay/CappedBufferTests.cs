using Failmail.Relay;

namespace Failmail.Tests.Relay;

public class CappedBufferTests
{
    [Fact]
    public void KeepsTheFirstBytesCountsAllAndStartsOverOnReset()
    {
        var buffer = new CappedBuffer(5);
        buffer.Write("abc"u8);
        buffer.Write("defgh"u8.ToArray(), 0, 5);
        Assert.Equal("abcde"u8.ToArray(), buffer.Kept.ToArray());
        Assert.Equal(8, buffer.Length);

        buffer.Reset();
        buffer.Write("xy"u8);
        Assert.Equal("xy"u8.ToArray(), buffer.Kept.ToArray());
        Assert.Equal(2, buffer.Length);
    }

    [Fact]
    public void AWholeMessageWrittenByMimeKitIsKeptUpToTheCapacity()
    {
        var message = new MimeKit.MimeMessage { Subject = "disk full" };
        message.Body = new MimeKit.TextPart("plain") { Text = new string('b', 10_000) };
        using var whole = new MemoryStream();
        message.WriteTo(whole);
        var buffer = new CappedBuffer(1000);
        message.WriteTo(buffer);
        Assert.Equal(whole.Length, buffer.Length);
        Assert.Equal(whole.ToArray().AsSpan(0, 1000).ToArray(), buffer.Kept.ToArray());
    }
}
