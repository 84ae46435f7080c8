namespace Failmail.Timing;

// Exponential backoff for retries, one formula for the relay (--retry-min to --retry-max) and
// the batcher's hand-off (--poll to --retry-max): the minimum after the first failure,
// doubling per failure, never above the maximum.
internal static class Backoff
{
    public static TimeSpan Delay(int failures, TimeSpan min, TimeSpan max)
    {
        // A zero or negative minimum would retry in a loop; one second is the floor.
        var delay = min > TimeSpan.Zero ? min : TimeSpan.FromSeconds(1);
        for (var i = 1; i < failures && delay < max; i++)
        {
            delay *= 2;
        }
        return delay < max ? delay : max;
    }
}
