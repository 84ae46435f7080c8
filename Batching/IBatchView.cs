namespace Failmail.Batching;

// What the API may see of and do to the batcher (issue 15). Both calls are served on the
// batcher's own loop (it is single-threaded by design): they wait for it, bounded by the
// caller's token.
internal interface IBatchView
{
    // Open batches, at most limit.
    Task<IReadOnlyList<OpenBatchView>> OpenBatchesAsync(int limit, CancellationToken cancellationToken);

    // Sends one open batch now; false when no open batch has that id.
    Task<bool> FlushAsync(long id, CancellationToken cancellationToken);

    // Messages silences took in so far.
    long Silenced { get; }
}
