using System.Text;
using Failmail.Batching;

namespace Failmail.Tests.Batching;

// The writer must give exactly Encoding.UTF8.GetBytes(string.Concat(pieces).ReplaceLineEndings("\r\n")).
public class DigestTextWriterTests
{
    private static byte[] Expected(IEnumerable<string> pieces) =>
        Encoding.UTF8.GetBytes(string.Concat(pieces).ReplaceLineEndings("\r\n"));

    private static byte[] Written(IEnumerable<string> pieces)
    {
        using var output = new MemoryStream();
        var writer = new DigestTextWriter(output);
        foreach (var piece in pieces)
        {
            writer.Append(piece);
        }
        writer.Finish();
        return output.ToArray();
    }

    public static TheoryData<string[]> Cases => new()
    {
        new[] { "a\nb\n" },
        new[] { "a\r\nb\rc\fd\u0085e\u2028f\u2029g" },
        new[] { "ends with CR\r", "\nstarts with LF" },
        new[] { "CR\r", "", "\nLF after an empty piece" },
        new[] { "CR\r", "x", "\n" },
        new[] { "\r", "\r", "\n", "\n" },
        new[] { "\r\n\r\n", "\n\r" },
        new[] { "pair split \ud83d", "\ude00 across pieces" },
        new[] { "lone high \ud83d", "x", "lone low \ude00", "end high \ud83d" },
        new[] { "caf\u00e9 \u2713 \ud83d\ude00 \u00ff" },
        new[] { "" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesReplaceLineEndingsThenUtf8(string[] pieces)
    {
        Assert.Equal(Expected(pieces), Written(pieces));
    }

    // Pieces longer than the writer's chunk, with pairs and CRLFs on every chunk boundary.
    [Fact]
    public void LongPiecesAndRandomMixesMatch()
    {
        var random = new Random(2014);
        var alphabet = new[] { "a", "\r", "\n", "\r\n", "\f", "\u0085", "\u2028", "\u00e9", "\u2713", "\ud83d\ude00", "\ud83d", "\ude00", " " };
        for (var round = 0; round < 200; round++)
        {
            var pieces = new List<string>();
            for (var p = random.Next(1, 6); p > 0; p--)
            {
                var sb = new StringBuilder();
                for (var n = random.Next(0, round < 20 ? 20_000 : 200); n > 0; n--)
                {
                    sb.Append(alphabet[random.Next(alphabet.Length)]);
                }
                pieces.Add(sb.ToString());
            }
            Assert.Equal(Expected(pieces), Written(pieces));
        }
    }
}
