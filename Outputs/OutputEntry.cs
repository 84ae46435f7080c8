namespace Failmail.Outputs;

// One queued post: a file in an output's queue directory (OutputQueue). Version 1.
internal sealed record OutputEntry
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    // The file's name without .json: a sortable UTC timestamp and a random part.
    public required string Id { get; init; }

    // When it was first queued (wall clock): --queue-lifetime runs from here.
    public required DateTimeOffset Queued { get; init; }

    public required OutputSummary Summary { get; init; }

    // The entries merged into this one (OutputWorker, while the output was behind). A crash
    // after the merged entry was committed but before its parts were removed leaves both on
    // disk; loading the queue drops the parts, so no message is counted twice.
    public IReadOnlyList<string>? MergedFrom { get; init; }
}
