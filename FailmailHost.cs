namespace Failmail;

// Starts the receiver and the sender from the options and runs until cancelled.
// Placeholder: the wiring lands once the services exist.
internal static class FailmailHost
{
    public static async Task<int> RunAsync(FailmailOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return 0;
    }
}
