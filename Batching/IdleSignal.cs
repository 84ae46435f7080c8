namespace Failmail.Batching;

// Lets tests see when BatcherService's loop is parked (STYLE pitfall 9: a FakeTimeProvider may
// be advanced only once the timer is armed and the loop waits on it). Thread-safe.
internal sealed class IdleSignal
{
    private readonly Lock _lock = new();
    private bool _parked;
    private long _ticks;
    private TaskCompletionSource _parkSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Ticks
    {
        get
        {
            lock (_lock)
            {
                return _ticks;
            }
        }
    }

    public void Park()
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            _parked = true;
            signal = _parkSignal;
            _parkSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        signal.TrySetResult();
    }

    public void Unpark()
    {
        lock (_lock)
        {
            _parked = false;
        }
    }

    public void TickDone()
    {
        lock (_lock)
        {
            _ticks++;
        }
    }

    // Completes once the loop is parked, at least minTicks ticks are done and queueEmpty()
    // holds at that moment.
    public async Task WaitAsync(long minTicks, Func<bool> queueEmpty, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queueEmpty);
        while (true)
        {
            Task signal;
            lock (_lock)
            {
                if (_parked && _ticks >= minTicks && queueEmpty())
                {
                    return;
                }
                signal = _parkSignal.Task;
            }
            await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
