using System.Globalization;
using System.Text;
using Failmail.Relay;

namespace Failmail.Hosting;

// Prometheus text exposition format 0.0.4: # HELP and # TYPE before each family's samples.
internal static class PrometheusWriter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Write(IFailmailStats stats, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var b = new StringBuilder(2048);
        Counter(b, "failmail_messages_received_total", "Messages accepted over SMTP and stored.", stats.MessagesReceived);
        Counter(b, "failmail_messages_rejected_total", "Messages refused over SMTP.", stats.MessagesRejected);
        Counter(b, "failmail_digests_sent_total", "Digests delivered to the relay.", stats.DigestsSent);
        Counter(b, "failmail_relay_failures_total", "Failed relay delivery attempts.", stats.RelayFailures);
        Counter(b, "failmail_relay_retries_total", "Relay delivery attempts that were retries.", stats.RelayRetries);
        Counter(b, "failmail_faildir_messages_total", "Messages written to the fail-dir.", stats.FaildirMessages);
        Counter(b, "failmail_quarantined_messages_total", "Messages moved to the quarantine because they broke their batch.", stats.QuarantinedMessages);
        Counter(b, "failmail_quarantined_batches_total", "Batches whose messages went to the quarantine.", stats.QuarantinedBatches);
        Counter(b, "failmail_messages_silenced_total", "Messages an active silence left out of digests.", stats.MessagesSilenced);
        Gauge(b, "failmail_pending_messages", "Messages in the incoming store.", stats.PendingMessages);
        Gauge(b, "failmail_open_batches", "Batches held in memory.", stats.ActiveBatches);
        Gauge(b, "failmail_smtp_sessions", "Open SMTP sessions.", stats.SmtpSessions);
        var oldest = stats.OldestPendingReceived;
        var age = oldest is DateTimeOffset received ? Math.Max(0, (now - received).TotalSeconds) : 0;
        Gauge(b, "failmail_oldest_pending_message_age_seconds", "Age of the oldest message in the incoming store, 0 when empty.", age);
        Histogram(b, "failmail_digest_send_duration_seconds", "Time to deliver one digest to the relay.", stats.DigestSendDuration);
        WriteRelays(b, stats.RelayEndpoints);
        WriteOutputs(b, stats.Outputs);
        return b.ToString();
    }

    // One series per relay of the --relay-addr failover list, labelled relay="smtp://host:port".
    private static void WriteRelays(StringBuilder b, IReadOnlyList<RelayEndpointStats> relays)
    {
        if (relays.Count == 0)
        {
            return;
        }
        Labelled(b, "failmail_relay_attempts_total", "Delivery attempts made on this relay.", "counter", relays, r => r.Attempts);
        Labelled(b, "failmail_relay_unavailable_total", "Attempts on which this relay could not be used (connect, timeout, TLS, greeting, AUTH).", "counter", relays, r => r.Failures);
        Labelled(b, "failmail_relay_sent_total", "Messages this relay took.", "counter", relays, r => r.Sent);
        Labelled(b, "failmail_relay_up", "1 while this relay is tried, 0 while it is skipped after failing.", "gauge", relays, r => r.Up ? 1 : 0);
        Labelled(b, "failmail_relay_backoff_seconds", "Time left until this relay is tried again, 0 while it is tried.", "gauge", relays, r => r.Backoff.TotalSeconds);
    }

    private static void Labelled(StringBuilder b, string name, string help, string type, IReadOnlyList<RelayEndpointStats> relays, Func<RelayEndpointStats, double> value)
    {
        Header(b, name, help, type);
        foreach (var relay in relays)
        {
            Sample(b, $"{name}{{relay=\"{EscapeLabel(relay.Relay)}\"}}", FormatValue(value(relay)));
        }
    }

    // Label values escape backslash, double quote and line feed (exposition format 0.0.4).
    private static string EscapeLabel(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);


    // Per output (--transport-map), labelled by its id (kind and a hash: no secret) and kind.
    private static void WriteOutputs(StringBuilder b, IReadOnlyList<Outputs.OutputStatus> outputs)
    {
        if (outputs.Count == 0)
        {
            return;
        }
        foreach (var (name, help, type, value) in new (string, string, string, Func<Outputs.OutputStatus, double>)[]
        {
            ("failmail_output_sent_total", "Posts an output's service accepted.", "counter", o => o.Sent),
            ("failmail_output_retries_total", "Output posts deferred for a retry (connection error, timeout, 5xx, 408, 429).", "counter", o => o.Retried),
            ("failmail_output_failed_total", "Output posts moved to the fail-dir (refused for good or expired).", "counter", o => o.Failed),
            ("failmail_output_queue_depth", "Posts waiting in an output's queue.", "gauge", o => o.QueueDepth),
        })
        {
            Header(b, name, help, type);
            foreach (var output in outputs)
            {
                Sample(b, $"{name}{{output=\"{output.Id}\",kind=\"{output.Kind}\"}}", FormatValue(value(output)));
            }
        }
    }

    // The process_* families of the Prometheus client libraries, same names and units.
    public static string WriteProcess(ProcessSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var b = new StringBuilder(768);
        Header(b, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter");
        Sample(b, "process_cpu_seconds_total", FormatValue(sample.CpuSeconds));
        Gauge(b, "process_resident_memory_bytes", "Resident memory size in bytes.", sample.ResidentBytes);
        Gauge(b, "process_virtual_memory_bytes", "Virtual memory size in bytes.", sample.VirtualBytes);
        if (sample.OpenFds >= 0)
        {
            Gauge(b, "process_open_fds", "Number of open file descriptors.", sample.OpenFds);
        }
        Gauge(b, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", sample.StartTimeSeconds);
        return b.ToString();
    }

    // Shortest round-trip form; Prometheus spells the infinities +Inf and -Inf.
    public static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private static void Header(StringBuilder b, string name, string help, string type)
    {
        b.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        b.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    private static void Counter(StringBuilder b, string name, string help, long value)
    {
        Header(b, name, help, "counter");
        Sample(b, name, value.ToString(CultureInfo.InvariantCulture));
    }

    private static void Gauge(StringBuilder b, string name, string help, double value)
    {
        Header(b, name, help, "gauge");
        Sample(b, name, FormatValue(value));
    }

    private static void Histogram(StringBuilder b, string name, string help, HistogramSnapshot histogram)
    {
        Header(b, name, help, "histogram");
        for (var i = 0; i < histogram.UpperBounds.Count; i++)
        {
            Sample(b, $"{name}_bucket{{le=\"{FormatValue(histogram.UpperBounds[i])}\"}}", histogram.CumulativeCounts[i].ToString(CultureInfo.InvariantCulture));
        }
        var count = histogram.Count.ToString(CultureInfo.InvariantCulture);
        Sample(b, name + "_bucket{le=\"+Inf\"}", count);
        Sample(b, name + "_sum", FormatValue(histogram.Sum));
        Sample(b, name + "_count", count);
    }

    private static void Sample(StringBuilder b, string series, string value) => b.Append(series).Append(' ').Append(value).Append('\n');
}
