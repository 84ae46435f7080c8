using Failmail.Relay;

namespace Failmail.Tests.Relay;

// Runs the worker for the length of a test; disposing stops it and awaits its shutdown drain.
internal sealed class Running : IAsyncDisposable
{
    private readonly RelayService _relay;
    private readonly CancellationTokenSource _stop = new();

    private Running(RelayService relay)
    {
        _relay = relay;
        Task = relay.RunAsync(_stop.Token);
    }

    public Task Task { get; }

    public static Running Start(RelayService relay) => new(relay);

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WaitAsync(RelayTestKit.Patience);
    }

    public async ValueTask DisposeAsync()
    {
        if (!Task.IsCompleted)
        {
            await StopAsync();
        }
        _stop.Dispose();
    }
}
