namespace Failmail.Outputs;

// The outputs' settings, parsed once: the transport map (read, expanded and checked here),
// where the queues and failures live, and the relay's retry policy, which the outputs share.
internal sealed record OutputSettings
{
    public required TransportMap Map { get; init; }

    // --transport-map as given ("" when off).
    public required string MapPath { get; init; }

    // QUEUE-DIR/outputs/OUTPUT-ID per output; null with --memory-store.
    public required string? QueueRoot { get; init; }
    public required string FailDir { get; init; }
    public required TimeSpan Poll { get; init; }
    public required TimeSpan RetryMin { get; init; }
    public required TimeSpan RetryMax { get; init; }
    public required TimeSpan QueueLifetime { get; init; }
    public required TimeSpan Timeout { get; init; }

    // --shutdown-timeout bounds the last attempts at stop, as the relay's drain.
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public IReadOnlyList<string> Warnings { get; init; } = [];

    // Throws ArgumentException naming --transport-map with every problem of the file.
    public static OutputSettings From(FailmailOptions options, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var map = TransportMap.Empty;
        IReadOnlyList<string> warnings = [];
        if (options.TransportMap.Length > 0)
        {
            if (!TransportMap.TryLoad(options.TransportMap, environment ?? Environment.GetEnvironmentVariable, out var loaded, out var problems, out warnings))
            {
                // One line per problem, each naming the flag, as OptionsValidator's.
                throw new ArgumentException(string.Join("\n", problems.Select(p => "--transport-map: " + p)));
            }
            map = loaded;
        }
        return new OutputSettings
        {
            Map = map,
            MapPath = options.TransportMap,
            QueueRoot = options.MemoryStore ? null : Path.Combine(options.QueueDir, "outputs"),
            FailDir = options.FailDir,
            Poll = options.Poll,
            RetryMin = options.RetryMin,
            RetryMax = options.RetryMax,
            QueueLifetime = options.QueueLifetime,
            Timeout = options.RelayTimeout,
            ShutdownTimeout = options.ShutdownTimeout,
            Warnings = warnings,
        };
    }
}
