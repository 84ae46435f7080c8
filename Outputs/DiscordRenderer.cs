using System.Text.Json;

namespace Failmail.Outputs;

// Discord execute-webhook: `content` (≤ 2,000 characters) with the headline, and one embed
// whose description (≤ 4,096) lists the groups; title ≤ 256, footer ≤ 2,048, and all embed
// text together ≤ 6,000. allowed_mentions is empty so a subject cannot ping @everyone.
internal static class DiscordRenderer
{
    public const int MaxContent = 2000;
    public const int MaxTitle = 256;
    public const int MaxDescription = 4096;
    public const int MaxFooter = 2048;
    public const int MaxEmbedTotal = 6000;

    public static OutputPayload Render(OutputEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var s = entry.Summary;
        var title = TextCut.Chars(s.Subject.Length > 0 ? TextCut.OneLine(s.Subject) : "failmail digest", MaxTitle);
        var footer = TextCut.Chars(DigestText.Context(s), MaxFooter);
        var budget = Math.Min(MaxDescription, MaxEmbedTotal - title.Length - footer.Length);
        var description = new System.Text.StringBuilder();
        var shown = 0;
        foreach (var g in s.Groups)
        {
            var line = Escape(DigestText.GroupLine(g, 300));
            // Room for this line and the rest line after it (~60 characters).
            if (description.Length + line.Length + 1 + 64 > budget)
            {
                break;
            }
            description.Append(description.Length > 0 ? "\n" : "").Append(line);
            shown++;
        }
        var rest = DigestText.Rest(s, shown);
        if (rest.Length > 0)
        {
            description.Append(description.Length > 0 ? "\n" : "").Append('*').Append(rest).Append('*');
        }
        var body = JsonPayload.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("content", TextCut.Chars(Escape(DigestText.Headline(s)), MaxContent));
            w.WriteStartArray("embeds");
            w.WriteStartObject();
            w.WriteString("title", title);
            w.WriteString("description", TextCut.Chars(description.ToString(), budget));
            w.WriteNumber("color", ColorOf(s.Severity));
            w.WriteString("timestamp", s.Newest.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteStartObject("footer");
            w.WriteString("text", footer);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartObject("allowed_mentions");
            w.WriteStartArray("parse");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        });
        return OutputPayload.ForJson(body);
    }

    private static int ColorOf(string severity) => severity switch
    {
        "critical" => 0x8B0000,
        "warning" => 0xFFA500,
        "info" => 0x3498DB,
        _ => 0xE74C3C,
    };

    // Markdown characters in subjects would format the post; backslash-escape them.
    private static string Escape(string text)
    {
        var b = new System.Text.StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is '*' or '_' or '`' or '~' or '|' or '>' or '\\')
            {
                b.Append('\\');
            }
            b.Append(c);
        }
        return b.ToString();
    }
}
