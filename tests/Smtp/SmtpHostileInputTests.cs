using System.Buffers;
using System.Text;
using Failmail.Smtp;

namespace Failmail.Tests.Smtp;

// Hostile input, generated from fixed seeds (reproducible): random bytes, NUL, bare CR and
// bare LF, 1 MB lines, commands split at every byte, pipelined floods, data after QUIT.
// Properties: nothing throws, every LF-terminated command line gets exactly one reply, and
// the connection never holds more than the line limit plus one read of unconsumed input.
public class SmtpHostileInputTests
{
    private const int MaxLine = 512;
    // One pipe read on top of the line limit (StreamPipeReader reads into 4 KiB pool
    // segments; measured peak 512 + 4096 with 1 MB lines); 8 KiB leaves room for a larger segment.
    private const int ReadSlack = 8 * 1024;

    private static readonly string[] Verbs =
    [
        "HELO ", "EHLO ", "MAIL FROM:", "MAIL FROM:<", "RCPT TO:", "RCPT TO:<", "NOOP", "RSET", "VRFY ", "HELP",
        "AUTH ", "AUTH PLAIN ", "STARTTLS", "BDAT ", "mail from:<a@b.c> SIZE=", "rcpt to:<x@y.z> NOTIFY=", "",
    ];

    private static SmtpLimits Limits => new(10_000, MaxLine, 100, 10, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10));

    // Sends input in chunks, reads every reply concurrently, then closes the input and waits
    // for the connection to end. Returns the replies after the greeting.
    private static async Task<(List<List<string>> Replies, SmtpTranscript Transcript)> RunAsync(byte[] input, Random random, int maxChunk)
    {
        var t = new SmtpTranscript(Limits);
        var replies = new List<List<string>>();
        var reading = Task.Run(async () =>
        {
            var current = new List<string>();
            while (await t.ReadLineAsync() is { } line)
            {
                current.Add(line);
                if (line.Length < 4 || line[3] != '-')
                {
                    replies.Add(current);
                    current = [];
                }
            }
        });
        for (var offset = 0; offset < input.Length;)
        {
            var n = Math.Min(input.Length - offset, random.Next(1, maxChunk + 1));
            await t.SendBytesAsync(input.AsMemory(offset, n));
            offset += n;
        }
        t.CloseClientOutput();
        // A fault inside the connection would surface here: RunAsync catches only I/O ends.
        await t.Run.WaitAsync(SmtpTranscript.Wait);
        await reading.WaitAsync(SmtpTranscript.Wait);
        Assert.Equal("220 mx.test ESMTP failmail", replies[0].Single());
        replies.RemoveAt(0);
        return (replies, t);
    }

    private static byte[] RandomLine(Random random)
    {
        var kind = random.Next(6);
        var body = new List<byte>();
        if (kind < 3)
        {
            body.AddRange(Encoding.ASCII.GetBytes(Verbs[random.Next(Verbs.Length)]));
        }
        var length = kind == 5 ? random.Next(MaxLine - 10, MaxLine * 3) : random.Next(0, 80);
        for (var i = 0; i < length; i++)
        {
            // Mostly printable, with NUL, bare CR, 8-bit bytes and <>:@= that the parser cares about.
            var b = random.Next(10) switch
            {
                0 => (byte)0,
                1 => (byte)'\r',
                2 => (byte)random.Next(128, 256),
                3 => "<>:@=. "u8[random.Next(7)],
                _ => (byte)random.Next(32, 127),
            };
            body.Add(b);
        }
        // Every line ends: CRLF mostly, a bare LF sometimes.
        if (random.Next(8) == 0)
        {
            body.Add((byte)'\n');
        }
        else
        {
            body.Add((byte)'\r');
            body.Add((byte)'\n');
        }
        return [.. body];
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public async Task RandomCommandLinesEachGetExactlyOneReply(int seed)
    {
        var random = new Random(seed);
        var lines = Enumerable.Range(0, 400).Select(_ => RandomLine(random)).ToList();
        var input = lines.SelectMany(l => l).ToArray();

        var (replies, t) = await RunAsync(input, random, maxChunk: 700);
        await using (t)
        {
            // Each line ends in exactly one LF (NUL and CR inside are just bytes).
            var expected = input.Count(b => b == (byte)'\n');
            Assert.Equal(expected, replies.Count);
            Assert.All(replies, r => Assert.Matches("^[2-5][0-9][0-9][ -]", r[0]));
            Assert.InRange(t.MaxBuffered, 0, MaxLine + ReadSlack);
            Assert.Empty(t.Sink.Messages);
        }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public async Task RandomBytesNeverCrashTheConnection(int seed)
    {
        var random = new Random(seed);
        var input = new byte[256 * 1024];
        random.NextBytes(input);

        var (replies, t) = await RunAsync(input, random, maxChunk: 9000);
        await using (t)
        {
            // One reply per LF-terminated line, plus one 500 for an unterminated tail that
            // already fills the line window. (Random bytes could spell DATA or QUIT and end the
            // count early; these seeds do not, and they are fixed.)
            var lf = input.Count(b => b == (byte)'\n');
            var tail = input.Length - 1 - Array.LastIndexOf(input, (byte)'\n');
            Assert.Equal(lf + (tail >= MaxLine ? 1 : 0), replies.Count);
            Assert.All(replies, r => Assert.StartsWith("500 ", r[0], StringComparison.Ordinal));
            Assert.InRange(t.MaxBuffered, 0, MaxLine + ReadSlack);
        }
    }

    [Fact]
    public async Task OneMegabyteLinesAreRefusedOnceEachWithoutBeingBuffered()
    {
        var random = new Random(21);
        var huge = new string('A', 1024 * 1024);
        var input = Encoding.ASCII.GetBytes($"NOOP\r\n{huge}\r\nNOOP\r\nMAIL FROM:<{huge}>\r\n{huge}\nRSET\r\n");

        var (replies, t) = await RunAsync(input, random, maxChunk: 64 * 1024);
        await using (t)
        {
            Assert.Equal(
                ["250 2.0.0 OK", "500 5.5.2 Line too long", "250 2.0.0 OK", "500 5.5.2 Line too long", "500 5.5.2 Line too long", "250 2.0.0 Reset"],
                replies.Select(r => r.Single()));
            Assert.InRange(t.MaxBuffered, 0, MaxLine + ReadSlack);
        }
    }

    [Fact]
    public async Task OneMegabyteLineInsideDataIsDrainedNotBuffered()
    {
        var random = new Random(22);
        var huge = new string('B', 1024 * 1024);
        var input = Encoding.ASCII.GetBytes($"MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nDATA\r\nSubject: s\r\n\r\n{huge}\r\n.\r\nNOOP\r\n");

        var (replies, t) = await RunAsync(input, random, maxChunk: 64 * 1024);
        await using (t)
        {
            Assert.Equal(["250 2.1.0 OK", "250 2.1.5 OK", "354 End data with <CR><LF>.<CR><LF>",
                "552 5.3.4 Message size exceeds fixed maximum message size", "250 2.0.0 OK"], replies.Select(r => r.Single()));
            Assert.InRange(t.MaxBuffered, 0, MaxLine + ReadSlack);
            Assert.Empty(t.Sink.Messages);
        }
    }

    [Fact]
    public async Task PipelinedFloodIsAnsweredLineForLine()
    {
        var random = new Random(31);
        var sb = new StringBuilder("MAIL FROM:<a@b.c>\r\n");
        for (var i = 0; i < 150; i++)
        {
            sb.Append($"RCPT TO:<r{i}@example.com>\r\n");
        }
        for (var i = 0; i < 10_000; i++)
        {
            sb.Append(i % 2 == 0 ? "NOOP\r\n" : "RSET\r\n");
        }
        var (replies, t) = await RunAsync(Encoding.ASCII.GetBytes(sb.ToString()), random, maxChunk: 32 * 1024);
        await using (t)
        {
            Assert.Equal(1 + 150 + 10_000, replies.Count);
            Assert.Equal(100, replies.Count(r => r[0] == "250 2.1.5 OK"));
            Assert.Equal(50, replies.Count(r => r[0] == "452 4.5.3 Too many recipients"));
            Assert.InRange(t.MaxBuffered, 0, MaxLine + ReadSlack);
        }
    }

    [Fact]
    public async Task DataAfterQuitIsIgnoredAndTheConnectionCloses()
    {
        var random = new Random(41);
        var garbage = new byte[100_000];
        random.NextBytes(garbage);
        var input = Encoding.ASCII.GetBytes("NOOP\r\nQUIT\r\nNOOP\r\nMAIL FROM:<a@b.c>\r\n").Concat(garbage).ToArray();

        var (replies, t) = await RunAsync(input, random, maxChunk: 50_000);
        await using (t)
        {
            Assert.Equal(["250 2.0.0 OK", "221 2.0.0 mx.test closing connection"], replies.Select(r => r.Single()));
        }
    }

    [Fact]
    public async Task ATransactionSplitAtEveryByteGetsTheSameReplies()
    {
        var script = Encoding.ASCII.GetBytes(
            "EHLO client.example\r\nMAIL FROM:<app@example.com> SIZE=40\r\nRCPT TO:<ops@example.com>\r\nDATA\r\n" +
            "Subject: split\r\n\r\n..dot\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n");
        List<string>? reference = null;
        for (var split = 0; split <= script.Length; split++)
        {
            await using var t = new SmtpTranscript(Limits);
            await t.ExpectAsync("220 mx.test ESMTP failmail");
            var replies = new List<string>();
            var reading = Task.Run(async () =>
            {
                while (await t.ReadLineAsync() is { } line)
                {
                    replies.Add(line);
                }
            });
            if (split > 0)
            {
                await t.SendRawAsync(Encoding.ASCII.GetString(script, 0, split));
                // The first part is read and handled before the rest exists.
                await t.ServerReadAsync();
            }
            await t.SendRawAsync(Encoding.ASCII.GetString(script, split, script.Length - split));
            await t.Run.WaitAsync(SmtpTranscript.Wait);
            await reading.WaitAsync(SmtpTranscript.Wait);

            var message = Assert.Single(t.Sink.Messages);
            using (var reader = new StreamReader(t.Store.OpenRead(message.Id)))
            {
                Assert.Equal("Subject: split\r\n\r\n.dot\r\nbody\r\n", await reader.ReadToEndAsync());
            }
            // The queue id differs per run; everything else must be identical.
            var normalized = replies.Select(r => r.StartsWith("250 2.0.0 Ok: queued as ", StringComparison.Ordinal) ? "250 queued" : r).ToList();
            reference ??= normalized;
            Assert.Equal(reference, normalized);
        }
        Assert.Equal(13, reference!.Count); // 7-line EHLO reply, MAIL, RCPT, 354, 250 queued, NOOP, 221
    }

    [Fact]
    public void ParserAndSessionNeverThrowOnRandomLines()
    {
        var random = new Random(51);
        var settings = new SmtpSessionSettings("mx.test", Limits, new SmtpCredentials("u", "p"), AllowUnencryptedAuth: true, TlsAvailable: true);
        var session = new SmtpSession(settings);
        for (var i = 0; i < 50_000; i++)
        {
            var line = RandomLine(random);
            var body = line.AsSpan(0, line.Length - (line.Length >= 2 && line[^2] == '\r' ? 2 : 1));
            // Whole and split into 1-byte segments: both shapes must parse alike.
            var whole = SmtpCommandParser.Parse(body);
            var split = SmtpCommandParser.Parse(Segments.Split(body, 1));
            Assert.Equal(whole.Verb, split.Verb);
            Assert.Equal(whole.Argument, split.Argument);
            var reply = session.ExpectsAuthResponse ? session.HandleAuthResponse(body) : session.Handle(whole);
            Assert.InRange(reply.Code, 200, 599);
            if (session.Action == SessionAction.ReadData)
            {
                session.EndData();
            }
            if (session.State == SessionState.Closing || session.Action == SessionAction.StartTls)
            {
                session = new SmtpSession(settings);
            }
        }
    }
}
