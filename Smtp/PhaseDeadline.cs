namespace Failmail.Smtp;

// A per-phase deadline (RFC 5321 §4.5.3.2) on the TimeProvider, so FakeTimeProvider can
// drive it. It is restarted when a phase starts (a command completes, DATA begins), never
// by bytes arriving: one byte per interval still times out (slowloris, STYLE pitfall 5).
internal sealed class PhaseDeadline : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly Action _onExpired;
    private readonly CancellationTokenRegistration _registration;
    private volatile bool _expired;

    public PhaseDeadline(TimeProvider timeProvider, Action onExpired)
    {
        _cts = new CancellationTokenSource(Timeout.InfiniteTimeSpan, timeProvider);
        _onExpired = onExpired;
        // Static with state: no closure per connection. Register passes this deadline, never null.
        _registration = _cts.Token.Register(static state => ((PhaseDeadline)state!).Expire(), this);
    }

    public bool Expired => _expired;

    // Cancelled when the deadline passes: for awaits that must not outlive the phase.
    public CancellationToken Token => _cts.Token;

    // For flushing a reply: a client that does not read its replies cannot hold the connection
    // past the deadline. Once the deadline has fired, the 421 still goes out; only the
    // listener's abort stops it.
    public CancellationToken FlushToken(CancellationToken abort) => _expired ? abort : _cts.Token;

    public void Restart(TimeSpan timeout)
    {
        if (!_expired)
        {
            _cts.CancelAfter(timeout);
        }
    }

    private void Expire()
    {
        _expired = true;
        _onExpired();
    }

    public void Dispose()
    {
        _registration.Dispose();
        _cts.Dispose();
    }
}
