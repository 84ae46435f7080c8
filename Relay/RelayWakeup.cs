using System.Threading.Channels;

namespace Failmail.Relay;

// How the relay worker sleeps: until new mail is queued, a deadline passes or it is
// stopped. It also records each sleep, so tests with a FakeTimeProvider advance time only
// once the worker's timer exists (a FakeTimeProvider fires only timers already created).
internal sealed class RelayWakeup
{
    private readonly TimeProvider _time;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _lock = new();
    private long _waits;
    private bool _waiting;
    private TaskCompletionSource _waitSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RelayWakeup(TimeProvider time) => _time = time;

    public long WaitCount
    {
        get { lock (_lock) { return _waits; } }
    }

    // Asleep with no wake-up pending: a wake-up already queued (mail handed over while the
    // worker was busy) ends this sleep at once, and the next one gets a new timer, so a test
    // that advanced its FakeTimeProvider now would miss that timer (STYLE pitfall 9).
    public bool IsWaiting
    {
        get { lock (_lock) { return _waiting && _wake.Reader.Count == 0; } }
    }

    public void Signal() => _ = _wake.Writer.TryWrite(true);

    // Forgets wake-ups that arrived while the worker was busy; it looks at the queue next.
    public void Clear()
    {
        while (_wake.Reader.TryRead(out _))
        {
        }
    }

    // Returns on a signal, after `delay` (null: no deadline), or throws when `stop` fires.
    public async Task WaitAsync(TimeSpan? delay, CancellationToken stop)
    {
        using var timer = delay is { } wait ? new CancellationTokenSource(wait, _time) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, timer.Token);
        TaskCompletionSource signal;
        lock (_lock)
        {
            _waits++;
            _waiting = true;
            signal = _waitSignal;
            _waitSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        signal.SetResult();
        try
        {
            _ = await _wake.Reader.WaitToReadAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            // The deadline passed: a retry or the idle close is due.
        }
        finally
        {
            lock (_lock)
            {
                _waiting = false;
            }
        }
    }

    // Completes once the worker has gone to sleep `count` times in all.
    public async Task WaitForWaitAsync(long count)
    {
        while (true)
        {
            Task signal;
            lock (_lock)
            {
                if (_waits >= count)
                {
                    return;
                }
                signal = _waitSignal.Task;
            }
            await signal.ConfigureAwait(false);
        }
    }
}
