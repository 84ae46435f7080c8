using System.Buffers;
using System.Text;
using Failmail.Smtp;

namespace Failmail.Tests.Smtp;

public class CommandLineFramerTests
{
    // Feeds the input through the framer as a connection would (consumed bytes are dropped,
    // the rest is offered again with the next chunk) and returns what it reported.
    private static List<string> Frame(string input, int maxLine, int chunk)
    {
        var framer = new CommandLineFramer(maxLine);
        var results = new List<string>();
        var pending = Array.Empty<byte>();
        var bytes = Encoding.ASCII.GetBytes(input);
        for (var i = 0; i < bytes.Length; i += chunk)
        {
            var data = pending.Concat(bytes.Skip(i).Take(chunk)).ToArray();
            var reader = new SequenceReader<byte>(Segments.Split(data, Math.Max(1, chunk / 2)));
            while (!reader.End)
            {
                var result = framer.TryRead(ref reader, out var line);
                if (result == FrameResult.NeedMore)
                {
                    break;
                }
                results.Add(result switch
                {
                    FrameResult.Line => Encoding.ASCII.GetString(line.ToArray()),
                    FrameResult.BareLf => "<bare lf>",
                    _ => "<too long>",
                });
            }
            pending = data[(int)reader.Consumed..];
            Assert.True(pending.Length < maxLine, "never more than a line is kept");
        }
        return results;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(1000)]
    public void LinesAndOverlongLinesInAnyChunking(int chunk)
    {
        var input = "NOOP\r\n" + new string('x', 40) + "\r\nQUIT\r\n" + new string('y', 100) + "\nRSET\r\n" + new string('z', 14) + "\r\nHELO\nNO\rOP\r\n\r\n";
        Assert.Equal(["NOOP", "<too long>", "QUIT", "<too long>", "RSET", new string('z', 14), "<bare lf>", "NO\rOP", ""], Frame(input, 16, chunk));
    }

    [Fact]
    public void ALineOfExactlyTheLimitIncludingCrLfFits() =>
        Assert.Equal([new string('a', 14)], Frame(new string('a', 14) + "\r\n", 16, 3));
}
