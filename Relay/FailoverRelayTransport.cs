using Microsoft.Extensions.Logging;
using MimeKit;

namespace Failmail.Relay;

// --relay-addr as a failover list (Postfix's smtp_fallback_relay, nullmailer's remotes): each
// send tries the relays in list order, skipping those that failed recently. A relay that
// cannot be used (refused, timeout, TLS, a reply at greeting/EHLO/AUTH, 421: the
// ConnectionTransient class) is skipped for its own backoff (--retry-min doubling to
// --retry-max), and the same send moves on to the next relay at once. A 4xx about the
// message also moves on (another hub may take it) without skipping the relay, which answered;
// a 5xx is the verdict on the message and ends the send. Only when every relay failed does the
// send fail: with a 4xx if one deferred it, else as the relay being down, and ReadyAt then
// tells the worker when the first relay's skip ends.
//
// When every relay is being skipped (the worker retries early because `resend` queued mail),
// all are tried in order anyway: that retry was asked for.
internal sealed class FailoverRelayTransport : IRelayTransport
{
    private readonly IReadOnlyList<RelayEndpoint> _relays;
    private readonly TimeSpan _retryMin;
    private readonly TimeSpan _retryMax;
    private readonly TimeProvider _time;
    private readonly ILogger? _logger;
    private readonly IDisposable? _owned;
    private RelayEndpoint? _last;

    // owned: disposed with the transport (the list's shared certificate policy).
    public FailoverRelayTransport(IReadOnlyList<RelayEndpoint> relays, TimeSpan retryMin, TimeSpan retryMax, TimeProvider time, ILogger? logger = null,
        IDisposable? owned = null)
    {
        ArgumentNullException.ThrowIfNull(relays);
        if (relays.Count == 0)
        {
            throw new ArgumentException("a failover list needs at least one relay", nameof(relays));
        }
        _relays = relays;
        _retryMin = retryMin;
        _retryMax = retryMax;
        _time = time;
        _logger = logger;
        _owned = owned;
    }

    public IReadOnlyList<RelayEndpoint> Relays => _relays;

    // The SIZE of the relay that took (or refused) the last message: the one the next
    // digest most likely goes to.
    public long? MaxSize => (_last ?? _relays[0]).Transport.MaxSize;

    public string? LastRelay => _last?.Name;

    // While every relay is skipped: when the first skip ends.
    public long? ReadyAt
    {
        get
        {
            var now = _time.GetTimestamp();
            return _relays.All(r => r.IsSkipped(now)) ? _relays.Min(r => r.SkipUntil) : null;
        }
    }

    public IReadOnlyList<RelayEndpointStats> Endpoints
    {
        get
        {
            var now = _time.GetTimestamp();
            return _relays.Select(r => r.Snapshot(now, _time)).ToList();
        }
    }

    public async ValueTask SendAsync(MimeMessage message, string from, IReadOnlyList<string> recipients, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        var order = _relays.Where(r => !r.IsSkipped(now)).ToList();
        if (order.Count == 0)
        {
            order = [.. _relays];
        }
        RelayException? deferred = null;
        RelayException? down = null;
        var reasons = new List<string>();
        for (var i = 0; i < order.Count; i++)
        {
            var relay = order[i];
            relay.Attempted();
            try
            {
                await relay.Transport.SendAsync(message, from, recipients, cancellationToken).ConfigureAwait(false);
                Answered(relay, sent: true);
                return;
            }
            catch (RelayException e) when (e.Kind == RelayFailureKind.ConnectionTransient)
            {
                down = e;
                reasons.Add(_relays.Count > 1 ? $"{relay.Name}: {e.Message}" : e.Message);
                var delay = relay.Failed(e.Message, _time.GetTimestamp(), _time, _retryMin, _retryMax);
                if (_logger is not null && _relays.Count > 1)
                {
                    var next = i + 1 < order.Count ? $"trying {order[i + 1].Name}" : "no relay left to try";
                    RelayLog.RelaySkipped(_logger, relay.Name, e.Message, _time.GetUtcNow() + delay, next);
                }
            }
            catch (RelayException e) when (e.Kind == RelayFailureKind.MessageTransient)
            {
                Answered(relay, sent: false);
                deferred ??= e;
                if (_logger is not null && i + 1 < order.Count)
                {
                    RelayLog.RelayDeferredTryingNext(_logger, relay.Name, e.Message, order[i + 1].Name);
                }
            }
            catch (RelayException)
            {
                // A 5xx (or an envelope no relay can take): the message's verdict.
                Answered(relay, sent: false);
                throw;
            }
        }
        if (deferred is not null)
        {
            throw deferred;
        }
        // Only ConnectionTransient failures are left: at least one relay was tried.
        System.Diagnostics.Debug.Assert(down is not null);
        if (_relays.Count == 1)
        {
            throw down!;
        }
        // The ones not tried this time say why they are being skipped.
        foreach (var skipped in _relays.Except(order))
        {
            var stats = skipped.Snapshot(_time.GetTimestamp(), _time);
            reasons.Add($"{skipped.Name}: skipped for {GoSyntax.GoDuration.Format(stats.Backoff)} more ({stats.LastError})");
        }
        throw new RelayException(RelayFailureKind.ConnectionTransient, $"every relay failed: {string.Join("; ", reasons)}", down);
    }

    public async ValueTask DisconnectAsync(CancellationToken cancellationToken)
    {
        foreach (var relay in _relays)
        {
            await relay.Transport.DisconnectAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var relay in _relays)
        {
            await relay.Transport.DisposeAsync().ConfigureAwait(false);
        }
        _owned?.Dispose();
    }

    private void Answered(RelayEndpoint relay, bool sent)
    {
        _last = relay;
        if (relay.Answered(sent) && _logger is not null && _relays.Count > 1)
        {
            RelayLog.RelayBack(_logger, relay.Name);
        }
    }
}
