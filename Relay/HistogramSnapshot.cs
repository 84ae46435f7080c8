namespace Failmail.Relay;

// A histogram at one moment. CumulativeCounts[i] counts observations <= UpperBounds[i]; the
// implicit +Inf bucket is Count.
internal sealed record HistogramSnapshot(IReadOnlyList<double> UpperBounds, IReadOnlyList<long> CumulativeCounts, double Sum, long Count);
