namespace Failmail.Batching;

// Lets tests see when BatcherService's loop is parked (STYLE pitfall 9: a FakeTimeProvider may
// be advanced only once the timer is armed and the loop waits on it). Thread-safe.
internal sealed class IdleSignal
{
    private readonly Lock _lock = new();
    private bool _parked;
    private bool _gathering;
    private long _ticks;
    private long _deadlines;
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

    public long Deadlines
    {
        get
        {
            lock (_lock)
            {
                return _deadlines;
            }
        }
    }

    // gathering: parked on the intake gather's timer (messages are queued), not idle.
    public void Park(bool gathering = false)
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            _parked = true;
            _gathering = gathering;
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
            _gathering = false;
        }
    }

    public void TickDone()
    {
        lock (_lock)
        {
            _ticks++;
        }
    }

    public void DeadlineDone()
    {
        lock (_lock)
        {
            _deadlines++;
        }
    }

    // Completes once the loop is parked, at least minTicks ticks are done and queueEmpty()
    // holds at that moment.
    // minDeadlines: and at least that many deadline rounds.
    public Task WaitAsync(long minTicks, Func<bool> queueEmpty, CancellationToken cancellationToken, long minDeadlines = 0)
    {
        ArgumentNullException.ThrowIfNull(queueEmpty);
        return WaitUntilAsync(() => _parked && !_gathering && _ticks >= minTicks && _deadlines >= minDeadlines && queueEmpty(), cancellationToken);
    }

    // Completes once the loop is parked on the intake gather's timer.
    public Task WaitGatheringAsync(CancellationToken cancellationToken) => WaitUntilAsync(() => _parked && _gathering, cancellationToken);

    // condition is checked under the lock, at every park.
    private async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task signal;
            lock (_lock)
            {
                if (condition())
                {
                    return;
                }
                signal = _parkSignal.Task;
            }
            await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
