namespace Failmail.Batching;

// How large a digest may be (issue 13): --max-digest-size and --max-digest-groups, and the
// SIZE the relay last advertised (RFC 1870), which the relay reports through ObserveRelayLimit
// after each EHLO. Built once from the options; the relay's figure is the only mutable part
// and may be read from any thread.
internal sealed class DigestLimits
{
    // Below this, a digest's headers and counts do not fit: the setting's floor.
    public const long MinBytes = 4096;

    private long _relayMaxSize;

    public DigestLimits(long maxBytes, int maxGroups)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, MinBytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxGroups, 1);
        MaxBytes = maxBytes;
        MaxGroups = maxGroups;
    }

    public static DigestLimits From(FailmailOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // OptionsValidator refuses smaller values; tests and previews may build options by hand.
        return new DigestLimits(Math.Max(MinBytes, options.MaxDigestSize), Math.Max(1, options.MaxDigestGroups));
    }

    public long MaxBytes { get; }

    public int MaxGroups { get; }

    // The bound a digest is built to: --max-digest-size, or the relay's SIZE when smaller.
    public long EffectiveMaxBytes => Volatile.Read(ref _relayMaxSize) is > 0 and var relay ? Math.Max(MinBytes, Math.Min(MaxBytes, relay)) : MaxBytes;

    // size: the relay's advertised SIZE; 0 or less when it advertises none (or no limit).
    public void ObserveRelayLimit(long size) => Volatile.Write(ref _relayMaxSize, size > 0 ? size : 0);
}
