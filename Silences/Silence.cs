namespace Failmail.Silences;

// One silence: every matcher must match (Alertmanager's AND), between StartsAt and EndsAt
// (wall-clock times from the TimeProvider). Immutable: expiring makes a copy ending now.
internal sealed record Silence(
    string Id,
    IReadOnlyList<SilenceMatcher> Matchers,
    DateTimeOffset StartsAt,
    DateTimeOffset EndsAt,
    string CreatedBy,
    string Comment,
    DateTimeOffset UpdatedAt)
{
    // Alertmanager's states.
    public string State(DateTimeOffset now) => now < StartsAt ? "pending" : now >= EndsAt ? "expired" : "active";

    public bool IsActive(DateTimeOffset now) => now >= StartsAt && now < EndsAt;

    public bool Matches(in SilenceFields fields)
    {
        foreach (var matcher in Matchers)
        {
            if (!matcher.Matches(fields))
            {
                return false;
            }
        }
        return true;
    }
}
