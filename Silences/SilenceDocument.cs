namespace Failmail.Silences;

// The JSON shape of a silence (Alertmanager API v2's gettableSilence / postableSilence), used
// by the API, `failmail ctl` and the silences file alike.
internal sealed class SilenceDocument
{
    public string? Id { get; set; }

    public List<MatcherDocument>? Matchers { get; set; }

    public DateTimeOffset? StartsAt { get; set; }

    public DateTimeOffset? EndsAt { get; set; }

    public string? CreatedBy { get; set; }

    public string? Comment { get; set; }

    public DateTimeOffset? UpdatedAt { get; set; }

    public SilenceStatus? Status { get; set; }
}

internal sealed class MatcherDocument
{
    public string? Name { get; set; }

    public string? Value { get; set; }

    public bool IsRegex { get; set; }

    // Alertmanager: absent means true.
    public bool IsEqual { get; set; } = true;
}

internal sealed class SilenceStatus
{
    public string State { get; set; } = "";
}
