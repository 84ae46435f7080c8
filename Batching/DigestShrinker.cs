using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;

namespace Failmail.Batching;

// Re-renders a queued digest smaller, for a relay that refused it for its size (552, RFC
// 1870 / RFC 3463 5.3.4) or advertises a SIZE below it. The outgoing queue holds only the
// digest's bytes (its source messages left the store at hand-off), so the digest is rebuilt
// from its own text: the default layout (spec §4.7, and DigestLayout's listed and summed
// lines) is read back into groups and laid out again within the new budget, with the same
// counts; any other text (a --template digest) is cut with a marker. Pure: message in,
// message out.
internal static partial class DigestShrinker
{
    // False when message is not one of failmail's digests, or it cannot get under maxBytes.
    public static bool TryShrink(MimeMessage message, long maxBytes, int maxGroups, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MimeMessage? smaller)
    {
        ArgumentNullException.ThrowIfNull(message);
        smaller = null;
        // A --digest-json digest is multipart/mixed: its text is laid out again and its JSON part
        // dropped (a hub then passes the smaller digest through rather than merging it).
        var part = message.Body as TextPart ?? (message.Body as Multipart)?.OfType<TextPart>().FirstOrDefault();
        if (!DigestBuilder.IsDigest(message) || part is null || maxBytes < DigestLimits.MinBytes)
        {
            return false;
        }
        var text = part.Text.ReplaceLineEndings("\n");
        var budget = maxBytes - 4096 - 2 * DigestLayout.Bytes(message.Subject ?? "");
        for (var attempt = 0; attempt < 6 && budget > 0; attempt++)
        {
            var shrunk = Layout(text, budget, maxGroups);
            var candidate = WithText(message, shrunk);
            var size = DigestBuilder.SerialisedSize(candidate);
            if (size <= maxBytes)
            {
                smaller = candidate;
                return true;
            }
            budget = budget * maxBytes / size - 1024;
        }
        return false;
    }

    // The digest text laid out again within budget bytes.
    public static string Layout(string text, long budget, int maxGroups)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n');
        if (lines.Length < 6 || lines[0] != "--- Failmail ---" || !lines[2].StartsWith("Unique messages: ", StringComparison.Ordinal)
            || !int.TryParse(lines[2].AsSpan(17), NumberStyles.None, CultureInfo.InvariantCulture, out var unique))
        {
            return DigestLayout.Bytes(text) > budget ? DigestLayout.Cut(text, budget) : text;
        }
        // The preamble runs to the first empty line (a follow-up digest has a sixth line).
        var preambleLines = 5;
        while (preambleLines < lines.Length && lines[preambleLines].Length > 0)
        {
            preambleLines++;
        }
        var preamble = string.Join('\n', lines, 0, preambleLines) + "\n";
        var entries = new List<DigestLayout.Entry>();
        var moreGroups = 0;
        var moreMessages = 0L;
        var i = preambleLines;
        while (i < lines.Length)
        {
            if (IsFullStart(lines, i))
            {
                var count = int.Parse(FullRegex().Match(lines[i + 1]).Groups[1].Value, CultureInfo.InvariantCulture);
                var extra = ExtraLines(lines, i);
                var fromLine = string.Join('\n', lines, i + 2, 1 + extra);
                i += extra; // from here on the section is laid out as one without extra lines
                var end = i + 6;
                while (end < lines.Length && !IsSectionStart(lines, end))
                {
                    end++;
                }
                // The body's lines, without the blank line that starts the next section (or the
                // empty string after the text's last line end).
                var bodyEnd = end < lines.Length ? end : lines.Length - 1;
                var body = string.Join('\n', lines, i + 6, Math.Max(0, bodyEnd - (i + 6))) + "\n";
                entries.Add(new DigestLayout.Entry(count, fromLine, lines[i + 4]["Subject: ".Length..], body));
                i = end;
                continue;
            }
            if (OneLineRegex().Match(lines[i]) is { Success: true } one)
            {
                entries.Add(new DigestLayout.Entry(int.Parse(one.Groups[1].Value, CultureInfo.InvariantCulture), "", one.Groups[2].Value, null));
            }
            else if (MoreRegex().Match(lines[i]) is { Success: true } more)
            {
                moreGroups += int.Parse(more.Groups[1].Value, CultureInfo.InvariantCulture);
                moreMessages += long.Parse(more.Groups[2].Value, CultureInfo.InvariantCulture);
            }
            i++;
        }
        var result = new StringBuilder();
        DigestLayout.Write(preamble, entries, unique, moreGroups, moreMessages, maxGroups, budget, s => result.Append(s));
        return result.ToString();
    }

    // A full section: blank, "- Message group", "  From", any more indented lines (hosts,
    // examples: issue 13), blank, "Subject: ", "Body:".
    private static bool IsFullStart(string[] lines, int i)
    {
        if (i + 5 >= lines.Length || lines[i].Length != 0 || !FullRegex().IsMatch(lines[i + 1]) || !lines[i + 2].StartsWith("  From ", StringComparison.Ordinal))
        {
            return false;
        }
        var j = i + ExtraLines(lines, i);
        return j + 5 < lines.Length && lines[j + 3].Length == 0 && lines[j + 4].StartsWith("Subject: ", StringComparison.Ordinal) && lines[j + 5] == "Body:";
    }

    // The indented lines after a section's "  From" line.
    private static int ExtraLines(string[] lines, int i)
    {
        var extra = 0;
        while (i + 3 + extra < lines.Length && extra < 8 && lines[i + 3 + extra].StartsWith("  ", StringComparison.Ordinal))
        {
            extra++;
        }
        return extra;
    }

    private static bool IsSectionStart(string[] lines, int i) =>
        IsFullStart(lines, i) || (lines[i].Length == 0 && i + 1 < lines.Length && (OneLineRegex().IsMatch(lines[i + 1]) || MoreRegex().IsMatch(lines[i + 1])));

    private static MimeMessage WithText(MimeMessage original, string text)
    {
        var bytes = new MemoryStream();
        var writer = new DigestTextWriter(bytes);
        writer.Append(text);
        writer.Finish();
        bytes.Position = 0;
        var part = new TextPart(MimeKit.Text.TextFormat.Plain);
        part.ContentType.CharsetEncoding = Encoding.UTF8;
        part.Content = new MimeContent(bytes);
        part.ContentTransferEncoding = part.GetBestEncoding(EncodingConstraint.SevenBit);
        original.Body = part;
        return original;
    }

    [GeneratedRegex(@"^- Message group \d+ of \d+: (\d+) instances?$", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex FullRegex();

    [GeneratedRegex(@"^- Message group \d+ of \d+: (\d+) instances?: (.*)$", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex OneLineRegex();

    [GeneratedRegex(@"^and (\d+) more groups? \((\d+) messages?\)$", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex MoreRegex();
}
