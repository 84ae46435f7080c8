namespace Failmail.Relay;

// A Prometheus-style histogram of seconds with fixed buckets. Observations are rare (one per
// digest), so a lock is simpler than lock-free buckets and costs nothing measurable.
internal sealed class DurationHistogram
{
    // From "the relay answered at once" to "close to the relay timeout".
    public static readonly IReadOnlyList<double> DefaultBounds = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    private readonly Lock _lock = new();
    private readonly double[] _bounds;
    private readonly long[] _counts;
    private double _sum;
    private long _count;

    public DurationHistogram(IReadOnlyList<double>? upperBounds = null)
    {
        _bounds = [.. upperBounds ?? DefaultBounds];
        for (var i = 1; i < _bounds.Length; i++)
        {
            if (!(_bounds[i] > _bounds[i - 1]))
            {
                throw new ArgumentException("bucket bounds must increase", nameof(upperBounds));
            }
        }
        _counts = new long[_bounds.Length];
    }

    public void Observe(TimeSpan duration)
    {
        var seconds = Math.Max(0, duration.TotalSeconds);
        lock (_lock)
        {
            var i = Array.BinarySearch(_bounds, seconds);
            // A value equal to a bound falls in that bucket (le = "less or equal").
            var bucket = i >= 0 ? i : ~i;
            if (bucket < _counts.Length)
            {
                _counts[bucket]++;
            }
            _sum += seconds;
            _count++;
        }
    }

    public HistogramSnapshot Snapshot()
    {
        lock (_lock)
        {
            var cumulative = new long[_counts.Length];
            long running = 0;
            for (var i = 0; i < _counts.Length; i++)
            {
                running += _counts[i];
                cumulative[i] = running;
            }
            return new HistogramSnapshot(_bounds, cumulative, _sum, _count);
        }
    }
}
