namespace Failmail.Batching;

// What --batch-expr and --group-expr gave one message, and the subject its group shows.
// Example: --group-normalize's values of this subject ("91%/web-17"), else "".
internal readonly record struct MessageKeys(string BatchKey, string GroupKey, string Subject)
{
    public string Example { get; init; } = "";
}
