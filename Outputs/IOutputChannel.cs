namespace Failmail.Outputs;

// One output's way to its service: renders an entry and posts it once. Never throws for what
// the service or the network did (that is the OutputResult); OutputWorker owns retries.
internal interface IOutputChannel : IAsyncDisposable
{
    Task<OutputResult> DeliverAsync(OutputEntry entry, CancellationToken cancellationToken);
}
