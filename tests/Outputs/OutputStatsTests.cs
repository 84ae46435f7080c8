using Failmail.Hosting;
using Failmail.Maildir;
using Failmail.Outputs;
using Microsoft.Extensions.Time.Testing;

namespace Failmail.Tests.Outputs;

// /metrics and /healthz for the outputs, read through ServiceStats as the running host does.
public class OutputStatsTests
{
    private static ServiceStats Stats(FakeTimeProvider time, params OutputStatus[] outputs) =>
        new(new MemoryMessageStore(), null, null, null, time)
        {
            OutputSource = () => outputs,
            OutputFailureThreshold = TimeSpan.FromHours(1),
        };

    [Fact]
    public void MetricsHaveSentRetriedFailedAndQueueDepthPerOutput()
    {
        var time = new FakeTimeProvider(OutputTestKit.T0);
        var text = PrometheusWriter.Write(Stats(time,
            new OutputStatus("slack-0123456789ab", "slack", 5, 2, 1, 3, null),
            new OutputStatus("pagerduty-ba9876543210", "pagerduty", 7, 0, 0, 0, null)), time.GetUtcNow());
        Assert.Contains("""
            # TYPE failmail_output_sent_total counter
            failmail_output_sent_total{output="slack-0123456789ab",kind="slack"} 5
            failmail_output_sent_total{output="pagerduty-ba9876543210",kind="pagerduty"} 7
            """.ReplaceLineEndings("\n"), text, StringComparison.Ordinal);
        Assert.Contains("failmail_output_retries_total{output=\"slack-0123456789ab\",kind=\"slack\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("failmail_output_failed_total{output=\"slack-0123456789ab\",kind=\"slack\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE failmail_output_queue_depth gauge\nfailmail_output_queue_depth{output=\"slack-0123456789ab\",kind=\"slack\"} 3\n", text, StringComparison.Ordinal);
        // Without outputs, no output families at all.
        Assert.DoesNotContain("failmail_output_", PrometheusWriter.Write(Stats(time), time.GetUtcNow()), StringComparison.Ordinal);
    }

    [Fact]
    public void HealthzReportsAnOutputFailingLongerThanTheQueueLifetime()
    {
        var time = new FakeTimeProvider(OutputTestKit.T0);
        var failing = new OutputStatus("webhook-0123456789ab", "webhook", 0, 9, 0, 4, OutputTestKit.T0);
        Assert.Null(HealthCheck.Problem(Stats(time, failing), time.GetUtcNow(), HealthCheck.DefaultRelayFailureThreshold));
        time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        var problem = HealthCheck.Problem(Stats(time, failing), time.GetUtcNow(), HealthCheck.DefaultRelayFailureThreshold);
        Assert.StartsWith("output webhook-0123456789ab failing since 2026-12-01T12:00:00Z (3601s, threshold 3600s), 4 queued", problem, StringComparison.Ordinal);
    }
}
