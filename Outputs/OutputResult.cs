namespace Failmail.Outputs;

internal enum OutputOutcome
{
    Sent,
    // Connection error, timeout, 5xx, 408 or 429: the same post again later.
    Retry,
    // Any other 4xx (or 3xx): the service will never take this post; fail-dir.
    Permanent,
}

// The outcome of one post. RetryAfter: what the service asked for (Retry-After, Discord's
// X-RateLimit-Reset-After). PauseAfter: a successful post that used up the rate-limit bucket.
internal sealed record OutputResult(OutputOutcome Outcome, string Reason)
{
    public TimeSpan? RetryAfter { get; init; }
    public TimeSpan? PauseAfter { get; init; }
    public int? Status { get; init; }
    public string? Response { get; init; }
    public string? Payload { get; init; }

    public static OutputResult Sent(string reason = "sent") => new(OutputOutcome.Sent, reason);

    public static OutputResult Retry(string reason, TimeSpan? retryAfter = null) => new(OutputOutcome.Retry, reason) { RetryAfter = retryAfter };
}
