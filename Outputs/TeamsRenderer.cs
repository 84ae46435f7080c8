using System.Text.Json;

namespace Failmail.Outputs;

// Microsoft Teams Workflows webhook ("Post to a channel when a webhook request is received"):
// a message with one Adaptive Card attachment (schema 1.4). Teams caps a message at about
// 28 KB, so at most MaxGroups groups are listed, each cut to 200 characters.
internal static class TeamsRenderer
{
    public const int MaxGroups = 30;
    public const string CardContentType = "application/vnd.microsoft.card.adaptive";

    public static OutputPayload Render(OutputEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var s = entry.Summary;
        var shown = Math.Min(MaxGroups, s.Groups.Count);
        var rest = DigestText.Rest(s, shown);
        var body = JsonPayload.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "message");
            w.WriteStartArray("attachments");
            w.WriteStartObject();
            w.WriteString("contentType", CardContentType);
            w.WriteNull("contentUrl");
            w.WriteStartObject("content");
            w.WriteString("$schema", "http://adaptivecards.io/schemas/adaptive-card.json");
            w.WriteString("type", "AdaptiveCard");
            w.WriteString("version", "1.4");
            w.WriteStartArray("body");
            TextBlock(w, TextCut.Chars(DigestText.Headline(s), 400), bold: true);
            TextBlock(w, TextCut.Chars(DigestText.Context(s), 400), subtle: true);
            w.WriteStartObject();
            w.WriteString("type", "FactSet");
            w.WriteStartArray("facts");
            foreach (var g in s.Groups.Take(shown))
            {
                w.WriteStartObject();
                w.WriteString("title", g.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) + "×");
                w.WriteString("value", TextCut.Chars(TextCut.OneLine(g.Subject.Length > 0 ? g.Subject : "(no subject)"), 200));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            if (rest.Length > 0)
            {
                TextBlock(w, rest, subtle: true);
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        });
        return OutputPayload.ForJson(body);
    }

    private static void TextBlock(Utf8JsonWriter w, string text, bool bold = false, bool subtle = false)
    {
        w.WriteStartObject();
        w.WriteString("type", "TextBlock");
        w.WriteString("text", text);
        w.WriteBoolean("wrap", true);
        if (bold)
        {
            w.WriteString("weight", "Bolder");
            w.WriteString("size", "Medium");
        }
        if (subtle)
        {
            w.WriteBoolean("isSubtle", true);
        }
        w.WriteEndObject();
    }
}
