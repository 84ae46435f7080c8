using System.Globalization;
using System.Text;

namespace Failmail.Outputs;

// The words every output shares: a headline (how many, of what, from which hosts, for whom)
// and one line per group, most messages first. Renderers fit as many lines as their platform
// allows and sum up the rest with Rest.
internal static class DigestText
{
    public static string Headline(OutputSummary s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"{s.TotalMessages} {Plural(s.TotalMessages, "message")}");
        b.Append(CultureInfo.InvariantCulture, $" in {s.GroupCount} {Plural(s.GroupCount, "group")}");
        if (s.Groups.Count > 0)
        {
            b.Append(": ").Append(TextCut.Chars(TextCut.OneLine(s.Groups[0].Subject), 120));
            if (s.GroupCount > 1)
            {
                b.Append(" and more");
            }
        }
        var hosts = s.Hosts.Take(4).ToList();
        if (hosts.Count > 0)
        {
            b.Append(" from ").Append(string.Join(", ", hosts.Select(TextCut.OneLine)));
        }
        return b.ToString();
    }

    // "for ops@example.com, batch db, 12:00:01–12:04:30 UTC"
    public static string Context(OutputSummary s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var b = new StringBuilder("for ").Append(TextCut.OneLine(s.Recipient));
        if (s.BatchKey.Length > 0)
        {
            b.Append(", batch ").Append(TextCut.Chars(TextCut.OneLine(s.BatchKey), 100));
        }
        b.Append(", ").Append(Time(s.Oldest)).Append(" – ").Append(Time(s.Newest));
        if (s.Digests > 1)
        {
            b.Append(CultureInfo.InvariantCulture, $" ({s.Digests} digests merged)");
        }
        return b.ToString();
    }

    public static string GroupLine(OutputGroup g, int subjectMax = 200)
    {
        ArgumentNullException.ThrowIfNull(g);
        var subject = g.Subject.Length > 0 ? g.Subject : "(no subject)";
        return $"{g.Count.ToString(CultureInfo.InvariantCulture)}× {TextCut.Chars(TextCut.OneLine(subject), subjectMax)}";
    }

    // The groups not shown: "and 12 more groups (340 messages)", or "" when none.
    public static string Rest(OutputSummary s, int shown)
    {
        ArgumentNullException.ThrowIfNull(s);
        var groups = s.GroupCount - shown;
        if (groups <= 0)
        {
            return "";
        }
        var messages = s.Groups.Skip(shown).Sum(g => (long)g.Count) + s.OmittedMessages;
        return $"and {groups} more {Plural(groups, "group")} ({messages} {Plural(messages, "message")})";
    }

    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    // The whole digest as plain text within `max` characters: headline, context, groups, rest.
    public static string Plain(OutputSummary s, int max, int maxGroups = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(s);
        var b = new StringBuilder();
        b.Append(Headline(s)).Append('\n').Append(Context(s));
        var shown = 0;
        foreach (var g in s.Groups.Take(maxGroups))
        {
            var line = "\n" + GroupLine(g);
            // Keep room for the rest line (at most ~60 chars).
            if (b.Length + line.Length + 64 > max)
            {
                break;
            }
            b.Append(line);
            shown++;
        }
        var rest = Rest(s, shown);
        if (rest.Length > 0)
        {
            b.Append('\n').Append(rest);
        }
        return TextCut.Chars(b.ToString(), max);
    }

    private static string Plural(long n, string word) => n == 1 ? word : word + "s";
}
