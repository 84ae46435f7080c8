namespace Failmail.Smtp;

// A per-phase deadline (RFC 5321 §4.5.3.2) on the TimeProvider, so FakeTimeProvider can
// drive it. It is restarted when a phase starts (a command completes, DATA begins), never
// by bytes arriving: one byte per interval still times out (slowloris, STYLE pitfall 5).
internal sealed class PhaseDeadline : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly CancellationTokenRegistration _registration;
    private volatile bool _expired;

    public PhaseDeadline(TimeProvider timeProvider, Action onExpired)
    {
        _cts = new CancellationTokenSource(Timeout.InfiniteTimeSpan, timeProvider);
        _registration = _cts.Token.Register(() =>
        {
            _expired = true;
            onExpired();
        });
    }

    public bool Expired => _expired;

    // Cancelled when the deadline passes: for awaits that must not outlive the phase.
    public CancellationToken Token => _cts.Token;

    public void Restart(TimeSpan timeout)
    {
        if (!_expired)
        {
            _cts.CancelAfter(timeout);
        }
    }

    public void Dispose()
    {
        _registration.Dispose();
        _cts.Dispose();
    }
}
