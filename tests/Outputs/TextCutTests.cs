using System.Text;
using Failmail.Outputs;

namespace Failmail.Tests.Outputs;

public class TextCutTests
{
    [Fact]
    public void ShortTextIsUnchanged() => Assert.Equal("abc", TextCut.Chars("abc", 3));

    [Fact]
    public void ACutNeverSplitsASurrogatePair()
    {
        // "a" then 10 emoji (2 UTF-16 units each)
        var text = "a" + string.Concat(Enumerable.Repeat("😀", 10));
        for (var max = 1; max <= text.Length; max++)
        {
            var cut = TextCut.Chars(text, max);
            Assert.True(cut.Length <= max, $"{max}: {cut.Length}");
            Assert.False(cut.Length > 0 && char.IsHighSurrogate(cut[^1]), $"{max}");
            Assert.Equal(cut, Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(cut)));
        }
    }

    [Fact]
    public void AByteCutNeverSplitsAUtf8Sequence()
    {
        var text = string.Concat(Enumerable.Repeat("é中😀x", 50));
        for (var max = 0; max <= 80; max++)
        {
            var cut = TextCut.Utf8(text, max);
            var bytes = Encoding.UTF8.GetBytes(cut);
            Assert.True(bytes.Length <= max, $"{max}: {bytes.Length}");
            // A strict decoder would throw on a broken sequence.
            Assert.Equal(cut, new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes));
        }
    }

    [Fact]
    public void ControlCharactersBecomeSpaces() => Assert.Equal("a  b c ", TextCut.OneLine("a\r\nb\tc\u001b"));
}
