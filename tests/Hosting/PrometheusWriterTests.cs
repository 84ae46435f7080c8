using Failmail.Hosting;

namespace Failmail.Tests.Hosting;

public sealed class PrometheusWriterTests
{
    [Fact]
    public void KnownStateGivesExactText()
    {
        var metrics = new FailmailMetrics();
        var now = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        metrics.ObserveBatcher(() => new SpecBatcherStats(3, 7, now));
        metrics.ObserveStore(() => new StoreStats(9, now.AddSeconds(-12.5)));
        metrics.MessageReceived();
        metrics.MessageReceived();
        metrics.MessageRejected();
        metrics.DigestSent();
        metrics.RelayFailed(now);
        metrics.RelayRetried();
        metrics.MovedToFaildir(4);
        metrics.SmtpSessionOpened();
        metrics.SmtpSessionOpened();
        metrics.SmtpSessionClosed();
        metrics.RecordDigestSendDuration(TimeSpan.FromSeconds(0.1));
        metrics.RecordDigestSendDuration(TimeSpan.FromSeconds(3));
        metrics.RecordDigestSendDuration(TimeSpan.FromMinutes(5));

        var text = PrometheusWriter.Write(metrics, now);

        Assert.Equal("""
            # HELP failmail_messages_received_total Messages accepted over SMTP and stored.
            # TYPE failmail_messages_received_total counter
            failmail_messages_received_total 2
            # HELP failmail_messages_rejected_total Messages refused over SMTP.
            # TYPE failmail_messages_rejected_total counter
            failmail_messages_rejected_total 1
            # HELP failmail_digests_sent_total Digests delivered to the relay.
            # TYPE failmail_digests_sent_total counter
            failmail_digests_sent_total 1
            # HELP failmail_relay_failures_total Failed relay delivery attempts.
            # TYPE failmail_relay_failures_total counter
            failmail_relay_failures_total 1
            # HELP failmail_relay_retries_total Relay delivery attempts that were retries.
            # TYPE failmail_relay_retries_total counter
            failmail_relay_retries_total 1
            # HELP failmail_faildir_messages_total Messages written to the fail-dir.
            # TYPE failmail_faildir_messages_total counter
            failmail_faildir_messages_total 4
            # HELP failmail_quarantined_messages_total Messages moved to the quarantine because they broke their batch.
            # TYPE failmail_quarantined_messages_total counter
            failmail_quarantined_messages_total 0
            # HELP failmail_quarantined_batches_total Batches whose messages went to the quarantine.
            # TYPE failmail_quarantined_batches_total counter
            failmail_quarantined_batches_total 0
            # HELP failmail_messages_silenced_total Messages an active silence left out of digests.
            # TYPE failmail_messages_silenced_total counter
            failmail_messages_silenced_total 0
            # HELP failmail_pending_messages Messages in the incoming store.
            # TYPE failmail_pending_messages gauge
            failmail_pending_messages 9
            # HELP failmail_open_batches Batches held in memory.
            # TYPE failmail_open_batches gauge
            failmail_open_batches 3
            # HELP failmail_smtp_sessions Open SMTP sessions.
            # TYPE failmail_smtp_sessions gauge
            failmail_smtp_sessions 1
            # HELP failmail_oldest_pending_message_age_seconds Age of the oldest message in the incoming store, 0 when empty.
            # TYPE failmail_oldest_pending_message_age_seconds gauge
            failmail_oldest_pending_message_age_seconds 12.5
            # HELP failmail_digest_send_duration_seconds Time to deliver one digest to the relay.
            # TYPE failmail_digest_send_duration_seconds histogram
            failmail_digest_send_duration_seconds_bucket{le="0.05"} 0
            failmail_digest_send_duration_seconds_bucket{le="0.1"} 1
            failmail_digest_send_duration_seconds_bucket{le="0.25"} 1
            failmail_digest_send_duration_seconds_bucket{le="0.5"} 1
            failmail_digest_send_duration_seconds_bucket{le="1"} 1
            failmail_digest_send_duration_seconds_bucket{le="2.5"} 1
            failmail_digest_send_duration_seconds_bucket{le="5"} 2
            failmail_digest_send_duration_seconds_bucket{le="10"} 2
            failmail_digest_send_duration_seconds_bucket{le="30"} 2
            failmail_digest_send_duration_seconds_bucket{le="60"} 2
            failmail_digest_send_duration_seconds_bucket{le="120"} 2
            failmail_digest_send_duration_seconds_bucket{le="+Inf"} 3
            failmail_digest_send_duration_seconds_sum 303.1
            failmail_digest_send_duration_seconds_count 3

            """.Replace("\r\n", "\n", StringComparison.Ordinal), text);
        PrometheusTextParser.Parse(text);
    }

    [Fact]
    public void ProcessFamiliesUseTheClientLibrariesNamesAndUnits()
    {
        var text = PrometheusWriter.WriteProcess(new ProcessSample(1.25, 40_000_000, 900_000_000, 17, 1767323045.5));

        Assert.Equal("""
            # HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
            # TYPE process_cpu_seconds_total counter
            process_cpu_seconds_total 1.25
            # HELP process_resident_memory_bytes Resident memory size in bytes.
            # TYPE process_resident_memory_bytes gauge
            process_resident_memory_bytes 40000000
            # HELP process_virtual_memory_bytes Virtual memory size in bytes.
            # TYPE process_virtual_memory_bytes gauge
            process_virtual_memory_bytes 900000000
            # HELP process_open_fds Number of open file descriptors.
            # TYPE process_open_fds gauge
            process_open_fds 17
            # HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
            # TYPE process_start_time_seconds gauge
            process_start_time_seconds 1767323045.5

            """.Replace("\r\n", "\n", StringComparison.Ordinal), text);
        Assert.DoesNotContain("process_open_fds", PrometheusWriter.WriteProcess(new ProcessSample(1, 1, 1, -1, 1)), StringComparison.Ordinal);
    }

    [Fact]
    public void ProcessSampleReadsThisProcess()
    {
        // Other tests open and close files in parallel: count against handles held here.
        var held = Enumerable.Range(0, 64).Select(_ => File.OpenRead("/proc/self/status")).ToList();
        try
        {
            var sample = ProcessSample.Read();

            Assert.InRange(sample.OpenFds, held.Count + 3, 100_000);
            var vmRss = long.Parse(File.ReadLines("/proc/self/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
                .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            Assert.InRange(sample.ResidentBytes, vmRss / 2, vmRss * 2);
            Assert.True(sample.VirtualBytes >= sample.ResidentBytes);
            Assert.True(sample.CpuSeconds > 0);
            Assert.InRange(sample.StartTimeSeconds, DateTimeOffset.UtcNow.AddDays(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        }
        finally
        {
            held.ForEach(stream => stream.Dispose());
        }
    }

    [Fact]
    public void EachRelayOfTheFailoverListHasLabelledSeries()
    {
        var metrics = new FailmailMetrics
        {
            RelayEndpoints =
            [
                new("smtp://hub-a.example:25", 5, 3, 2, TimeSpan.FromSeconds(90), "relay connection failed: connection refused"),
                new("smtps://hub-\"b\\.example:465", 3, 0, 3, TimeSpan.Zero, null),
            ],
        };
        var text = PrometheusWriter.Write(metrics, DateTimeOffset.UnixEpoch);

        Assert.Contains("""
            # TYPE failmail_relay_attempts_total counter
            failmail_relay_attempts_total{relay="smtp://hub-a.example:25"} 5
            failmail_relay_attempts_total{relay="smtps://hub-\"b\\.example:465"} 3
            """.ReplaceLineEndings("\n"), text, StringComparison.Ordinal);
        Assert.Contains("failmail_relay_unavailable_total{relay=\"smtp://hub-a.example:25\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("failmail_relay_sent_total{relay=\"smtp://hub-a.example:25\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("failmail_relay_up{relay=\"smtp://hub-a.example:25\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("failmail_relay_up{relay=\"smtps://hub-\\\"b\\\\.example:465\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("failmail_relay_backoff_seconds{relay=\"smtp://hub-a.example:25\"} 90\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("failmail_relay_up", PrometheusWriter.Write(new FailmailMetrics(), DateTimeOffset.UnixEpoch), StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyStoreHasZeroAge()
    {
        var text = PrometheusWriter.Write(new FailmailMetrics(), DateTimeOffset.UnixEpoch);

        var families = PrometheusTextParser.Parse(text);

        Assert.Equal(0, families["failmail_oldest_pending_message_age_seconds"].Samples.Single().Value);
        Assert.Equal(0, families["failmail_pending_messages"].Samples.Single().Value);
    }

    [Theory]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(0.1, "0.1")]
    [InlineData(1e21, "1E+21")]
    [InlineData(42, "42")]
    public void ValuesUsePrometheusSpelling(double value, string expected)
    {
        Assert.Equal(expected, PrometheusWriter.FormatValue(value));
    }
}
