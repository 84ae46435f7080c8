namespace Failmail.Batching;

// The BatcherService loop's wake-up for the batcher's next deadline: one Task.Delay on the
// TimeProvider, made again only when the deadline moves (a new batch due sooner, or the one
// it waited for was sent). Owned by the loop; not thread-safe.
internal sealed class DeadlineTimer(TimeProvider time) : IDisposable
{
    private static readonly Task Never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously).Task;

    private CancellationTokenSource? _cancel;
    private Task _delay = Never;
    private long? _armedFor;

    // A task that completes at deadline (a TimeProvider timestamp; now or earlier at once),
    // or never for null. The same task while the deadline stays the same.
    public Task Arm(long? deadline, CancellationToken stop)
    {
        if (deadline == _armedFor && !_delay.IsCompleted)
        {
            return _delay;
        }
        Cancel();
        _armedFor = deadline;
        if (deadline is not { } due)
        {
            _delay = Never;
            return _delay;
        }
        var wait = time.GetElapsedTime(time.GetTimestamp(), due);
        if (wait <= TimeSpan.Zero)
        {
            _delay = Task.CompletedTask;
            return _delay;
        }
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(stop);
        // Cancelled only when the deadline moved (the loop then waits on the new task) or on
        // stop; the loop never awaits it, so the cancellation is not observed as a fault.
        _delay = Task.Delay(wait, time, _cancel.Token);
        return _delay;
    }

    // The loop ran the batcher at or after the deadline: the next Arm starts afresh.
    public void Fired()
    {
        Cancel();
        _armedFor = null;
        _delay = Never;
    }

    public void Dispose() => Cancel();

    private void Cancel()
    {
        if (_cancel is null)
        {
            return;
        }
        _cancel.Cancel();
        _cancel.Dispose();
        _cancel = null;
    }
}
