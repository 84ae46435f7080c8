namespace Failmail.Relay;

// Exponential backoff for relay retries: --retry-min after the first failure, doubling
// per failure, never above --retry-max.
internal static class RelayBackoff
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
