namespace Failmail.Api;

// Messages received per minute over the last hour, for the console's sparkline. Fed with
// the running total (IFailmailStats.MessagesReceived) now and then; each increase counts in
// the minute it was seen. Pure: time comes in. Thread-safe (one lock).
internal sealed class MessageRate
{
    public const int Minutes = 60;

    private readonly long[] _counts = new long[Minutes];
    private readonly long[] _minuteOf = new long[Minutes];
    private readonly Lock _lock = new();
    private long? _lastTotal;

    public void Observe(long total, DateTimeOffset now)
    {
        var minute = now.ToUnixTimeSeconds() / 60;
        lock (_lock)
        {
            var delta = _lastTotal is { } last && total >= last ? total - last : 0;
            _lastTotal = total;
            var slot = (int)(minute % Minutes);
            if (_minuteOf[slot] != minute)
            {
                _minuteOf[slot] = minute;
                _counts[slot] = 0;
            }
            _counts[slot] += delta;
        }
    }

    // Oldest first; minutes with no observation are 0.
    public List<long> Series(DateTimeOffset now)
    {
        var minute = now.ToUnixTimeSeconds() / 60;
        var series = new List<long>(Minutes);
        lock (_lock)
        {
            for (var m = minute - Minutes + 1; m <= minute; m++)
            {
                var slot = (int)(m % Minutes);
                series.Add(_minuteOf[slot] == m ? _counts[slot] : 0);
            }
        }
        return series;
    }
}
