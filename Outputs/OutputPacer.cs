namespace Failmail.Outputs;

// The services' rates are per sender, not per map target (Twilio: one SMS a second per sending
// number; PagerDuty: 120 events a minute per routing key; Slack: one a second per webhook), and
// two targets may share one (two phones texted from one number). Workers of targets with the same
// RateKey take their turns here. Thread-safe; timestamps are TimeProvider ticks.
internal sealed class OutputPacer
{
    private readonly Dictionary<string, long> _next = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    // The sender a target's rate belongs to: the sending number for Twilio, the routing key for
    // PagerDuty, the endpoint otherwise.
    public static string RateKey(OutputTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return target.Kind switch
        {
            OutputKind.Twilio => $"twilio:{target.User}:{target.From}",
            OutputKind.PagerDuty => "pagerduty:" + target.RoutingKey,
            _ => $"{target.Kind}:{target.Endpoint}",
        };
    }

    // True when key may post now: its next turn is then interval ticks later. Else false, with
    // the ticks until its turn.
    public bool TryTake(string key, long now, long interval, out long wait)
    {
        lock (_lock)
        {
            if (_next.TryGetValue(key, out var next) && next > now)
            {
                wait = next - now;
                return false;
            }
            _next[key] = now + interval;
            wait = 0;
            return true;
        }
    }
}
