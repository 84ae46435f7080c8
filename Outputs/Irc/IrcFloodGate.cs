namespace Failmail.Outputs.Irc;

// Client-side flood control, as irssi and most bots do it: a burst of lines at once, then
// one line per interval, so the server never disconnects us for excess flood. A token
// bucket on TimeProvider timestamps; pure, the connection awaits the delay it returns.
internal sealed class IrcFloodGate
{
    public const int DefaultBurst = 4;
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(2);

    private readonly TimeProvider _time;
    private readonly int _burst;
    private readonly TimeSpan _interval;
    private double _tokens;
    private long _stamp;

    public IrcFloodGate(TimeProvider time, int burst = DefaultBurst, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        _time = time;
        _burst = burst;
        _interval = interval ?? DefaultInterval;
        _tokens = burst;
        _stamp = time.GetTimestamp();
    }

    // Takes one line's token: zero when it may go now, else how long to wait before it goes.
    public TimeSpan Take()
    {
        var now = _time.GetTimestamp();
        _tokens = Math.Min(_burst, _tokens + _time.GetElapsedTime(_stamp, now) / _interval);
        _stamp = now;
        _tokens -= 1;
        return _tokens >= 0 ? TimeSpan.Zero : -_tokens * _interval;
    }
}
