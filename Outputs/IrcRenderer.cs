namespace Failmail.Outputs;

// IRC: a few short lines (a PRIVMSG line is at most 512 bytes with its prefix and command,
// so the text keeps to 400 bytes of UTF-8): the headline, the top groups, the rest summed.
internal static class IrcRenderer
{
    public const int MaxLineBytes = 400;
    public const int MaxGroups = 3;

    public static IReadOnlyList<string> Render(OutputEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var s = entry.Summary;
        var lines = new List<string> { TextCut.Utf8(TextCut.OneLine("failmail: " + DigestText.Headline(s) + " (" + DigestText.Context(s) + ")"), MaxLineBytes) };
        var shown = 0;
        foreach (var g in s.Groups.Take(MaxGroups))
        {
            lines.Add(TextCut.Utf8("- " + DigestText.GroupLine(g, 380), MaxLineBytes));
            shown++;
        }
        var rest = DigestText.Rest(s, shown);
        if (rest.Length > 0)
        {
            lines.Add("- " + rest);
        }
        return lines;
    }
}
