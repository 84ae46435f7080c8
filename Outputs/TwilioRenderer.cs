using System.Net.Http.Headers;
using System.Text;

namespace Failmail.Outputs;

// Twilio Programmable Messaging (POST .../Accounts/SID/Messages.json): form-encoded To, From
// and Body, HTTP Basic auth as ACCOUNT_SID:AUTH_TOKEN. Body ≤ 1,600 characters; an SMS says
// what and how many (headline and the top groups), not the whole digest.
internal static class TwilioRenderer
{
    public const int MaxBody = 1600;
    public const int MaxGroups = 5;

    public static string Text(OutputSummary s) => DigestText.Plain(s, MaxBody, MaxGroups);

    public static OutputPayload Render(OutputTarget target, OutputEntry entry)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(entry);
        var form = $"To={Uri.EscapeDataString(target.To)}&From={Uri.EscapeDataString(target.From)}&Body={Uri.EscapeDataString(Text(entry.Summary))}";
        var auth = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(target.User + ":" + target.Password)));
        return new OutputPayload(Encoding.ASCII.GetBytes(form), "application/x-www-form-urlencoded", [new("Authorization", auth.ToString())]);
    }
}
