namespace Failmail.Timing;

// Deadlines (batcher, relay) are monotonic TimeProvider.GetTimestamp() values; these convert
// spans and wall-clock receive times onto that timeline.
internal static class MonotonicTime
{
    public static long ToTicks(TimeProvider time, TimeSpan span) =>
        (long)Math.Min(span.TotalSeconds * time.TimestampFrequency, long.MaxValue / 4);

    // The wall-clock receive time on the monotonic timeline: an old message (from a restart)
    // gets an old timestamp, so its batch is due soon.
    public static long ToTimestamp(TimeProvider time, DateTimeOffset received)
    {
        var nowTs = time.GetTimestamp();
        var age = time.GetUtcNow() - received;
        return age <= TimeSpan.Zero ? nowTs : nowTs - ToTicks(time, age);
    }
}
