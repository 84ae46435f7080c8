namespace Failmail.Outputs;

// One output as /metrics and /healthz show it.
internal sealed record OutputStatus(string Id, string Kind, long Sent, long Retried, long Failed, int QueueDepth, DateTimeOffset? FailingSince);
