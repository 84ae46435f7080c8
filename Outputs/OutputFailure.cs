namespace Failmail.Outputs;

// A post that an output refused for good (a 4xx other than 408/429, or past
// --queue-lifetime): FAIL-DIR/outputs/OUTPUT-ID.ENTRY-ID.json. `failmail resend FAIL-DIR`
// puts Entry back into the output's queue.
internal sealed record OutputFailure
{
    public int Version { get; init; } = 1;
    public required string Output { get; init; }
    public required string Target { get; init; }
    public required string Reason { get; init; }
    public int? Status { get; init; }
    public string? Response { get; init; }
    public string? Payload { get; init; }
    public required DateTimeOffset Failed { get; init; }
    public required OutputEntry Entry { get; init; }
}
