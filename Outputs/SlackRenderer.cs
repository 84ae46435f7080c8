using System.Text.Json;

namespace Failmail.Outputs;

// Slack incoming webhook: Block Kit with a top-level `text` fallback (notifications, and
// clients without blocks). Limits: a header's plain_text ≤ 150 characters, a section's text
// ≤ 3,000, at most 50 blocks per message; the fallback text is kept short (≤ 3,000 here).
internal static class SlackRenderer
{
    public const int MaxBlocks = 50;
    public const int MaxSectionText = 3000;
    public const int MaxHeaderText = 150;
    public const int MaxFallback = 3000;

    public static OutputPayload Render(OutputEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var s = entry.Summary;
        // Sections of group lines, each filled up to the limit; header, context and the rest
        // line leave MaxBlocks - 3 for them.
        var sections = new List<string>();
        var current = new System.Text.StringBuilder();
        var shown = 0;
        foreach (var g in s.Groups)
        {
            var line = "• " + Escape(DigestText.GroupLine(g, 500));
            if (current.Length > 0 && current.Length + 1 + line.Length > MaxSectionText)
            {
                if (sections.Count + 1 >= MaxBlocks - 3)
                {
                    break;
                }
                sections.Add(current.ToString());
                current.Clear();
            }
            current.Append(current.Length > 0 ? "\n" : "").Append(line);
            shown++;
        }
        if (current.Length > 0)
        {
            sections.Add(current.ToString());
        }
        var rest = DigestText.Rest(s, shown);
        var body = JsonPayload.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("text", TextCut.Chars(Escape(DigestText.Headline(s)), MaxFallback));
            w.WriteStartArray("blocks");
            w.WriteStartObject();
            w.WriteString("type", "header");
            PlainText(w, "text", TextCut.Chars(DigestText.Headline(s), MaxHeaderText));
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteString("type", "context");
            w.WriteStartArray("elements");
            w.WriteStartObject();
            w.WriteString("type", "mrkdwn");
            w.WriteString("text", TextCut.Chars(Escape(DigestText.Context(s)), MaxSectionText));
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            foreach (var section in sections)
            {
                Section(w, section);
            }
            if (rest.Length > 0)
            {
                Section(w, "_" + rest + "_");
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
        return OutputPayload.ForJson(body);
    }

    private static void Section(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type", "section");
        w.WriteStartObject("text");
        w.WriteString("type", "mrkdwn");
        w.WriteString("text", TextCut.Chars(text, MaxSectionText));
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void PlainText(Utf8JsonWriter w, string name, string text)
    {
        w.WriteStartObject(name);
        w.WriteString("type", "plain_text");
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    // Slack's mrkdwn control characters (&, <, >) must be escaped in message text.
    public static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
