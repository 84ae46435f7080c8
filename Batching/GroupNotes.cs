using System.Globalization;
using System.Text;

namespace Failmail.Batching;

// The short texts a digest shows about a group beside its count (issue 13): its sending hosts
// ("web-3 (120), web-7 (94), 12 more hosts") and the example values of a normalised subject
// ("91%/web-17, 93%/web-4"). Shared by the default layout and the template variables.
internal static class GroupNotes
{
    // Hosts named one by one; the rest are counted.
    public const int ShownHosts = 3;

    public static string Hosts(DueGroup group, int shown = ShownHosts)
    {
        ArgumentNullException.ThrowIfNull(group);
        var sb = new StringBuilder();
        for (var i = 0; i < group.Hosts.Count && i < shown; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }
            sb.Append(CultureInfo.InvariantCulture, $"{OneLine(group.Hosts[i].Host)} ({group.Hosts[i].Count})");
        }
        // The listed ones not shown, and the distinct others past the list.
        var more = Math.Max(0, group.Hosts.Count - shown) + group.OtherHosts;
        // Messages from hosts nobody named (a spoke's own others) cannot be counted as hosts.
        var unnamed = group.OtherHosts == 0 ? group.OtherHostMessages : 0;
        if (more > 0 || unnamed > 0)
        {
            if (sb.Length > 0)
            {
                sb.Append(", ");
            }
            if (more > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{more} more {(more == 1 ? "host" : "hosts")}");
            }
            if (unnamed > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{(more > 0 ? " and others" : "others")} ({DigestBuilder.Plural(unnamed, "message")})");
            }
        }
        return sb.ToString();
    }

    public static string Examples(DueGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return string.Join(", ", group.Examples.Select(OneLine));
    }

    // "still happening: 1,204 more since the last digest" (--follow-up-interval).
    public static string StillHappening(DueBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return string.Create(CultureInfo.InvariantCulture, $"still happening: {batch.TotalMessages:N0} more since the last digest");
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Replace('\t', ' ');
}
