namespace Failmail.Outputs;

// One group of a queued digest, as the outputs render it. Hosts: the sending hosts the
// batcher counted, most messages first. New fields are added as optional properties so a
// queue file written by an older version still reads.
internal sealed record OutputGroup
{
    public required string Key { get; init; }
    public required string Subject { get; init; }
    public required int Count { get; init; }
    public required DateTimeOffset First { get; init; }
    public required DateTimeOffset Last { get; init; }
    public IReadOnlyList<string> Hosts { get; init; } = [];
}
