using System.Text;

namespace Failmail.Outputs.Irc;

// Makes hostile text safe and short enough for one PRIVMSG. A CR, LF or NUL in a subject would
// end the line and let the rest be read as a command of ours (RFC 2812 §2.3: a message is one
// line); other control characters are shown as spaces. Lines are cut at a UTF-8 character
// boundary, never inside a sequence, preferring a space.
internal static class IrcText
{
    // RFC 2812 §2.3: 512 bytes with the CRLF. The server relays our line to the channel with
    // our prefix (":nick!user@host ") in front, and cuts what does not fit; the room kept
    // for it is a nick, a 10-byte user and a 63-byte host.
    public const int MaxLine = 512;

    public static int TextBudget(IrcTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var prefix = 1 + Encoding.UTF8.GetByteCount(target.Nick) + 1 + 10 + 1 + 63 + 1;
        var command = "PRIVMSG ".Length + Encoding.UTF8.GetByteCount(target.Channel) + 2;
        return MaxLine - 2 - prefix - command;
    }

    public static string Clean(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            builder.Append(Rune.IsControl(rune) ? " " : rune.ToString());
        }
        return builder.ToString().Trim();
    }

    // Clean, then split into lines of at most maxBytes UTF-8 bytes each.
    public static List<string> Split(string text, int maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 4);
        var lines = new List<string>();
        var rest = Clean(text);
        while (Encoding.UTF8.GetByteCount(rest) > maxBytes)
        {
            var cut = FitChars(rest, maxBytes);
            var space = rest.LastIndexOf(' ', cut - 1, cut);
            // Break at a space when one is in the last third; a long word is cut where it fits.
            if (space > cut * 2 / 3)
            {
                cut = space;
            }
            lines.Add(rest[..cut].TrimEnd());
            rest = rest[cut..].TrimStart();
        }
        if (rest.Length > 0 || lines.Count == 0)
        {
            lines.Add(rest);
        }
        return lines;
    }

    // How many chars of text fit in maxBytes, never ending between a surrogate pair.
    private static int FitChars(string text, int maxBytes)
    {
        var bytes = 0;
        var i = 0;
        while (i < text.Length)
        {
            Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var used);
            if (bytes + rune.Utf8SequenceLength > maxBytes)
            {
                break;
            }
            bytes += rune.Utf8SequenceLength;
            i += used;
        }
        return Math.Max(i, 1);
    }
}
