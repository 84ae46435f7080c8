namespace Failmail.Batching;

// What a digest says about itself, taken once from the options: --from, --reply-to,
// --subject-prefix, and its size limits (DigestLimits, which also learns the relay's SIZE).
// ShowHosts: --show-hosts, each group's sending hosts in the default layout (issue 13).
internal sealed record DigestSettings(string FromAddress, string ReplyTo, string SubjectPrefix, DigestLimits Limits)
{
    public bool ShowHosts { get; init; }

    // --digest-json (issue 16): each digest carries its DigestDocument as a second part.
    public bool AttachJson { get; init; }

    public static DigestSettings From(FailmailOptions options, DigestLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new DigestSettings(options.From, options.ReplyTo, options.SubjectPrefix, limits ?? DigestLimits.From(options))
        {
            ShowHosts = options.ShowHosts,
            AttachJson = options.DigestJson,
        };
    }
}
