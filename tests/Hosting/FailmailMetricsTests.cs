using Failmail.Hosting;

namespace Failmail.Tests.Hosting;

public sealed class FailmailMetricsTests
{
    [Fact]
    public void WithoutSourcesGaugesAreZeroAndLastReceivedIsGoZero()
    {
        var metrics = new FailmailMetrics();

        Assert.Equal(0, metrics.ActiveBatches);
        Assert.Equal(0, metrics.PendingMessages);
        Assert.Null(metrics.OldestPendingReceived);
        Assert.Equal(DateTimeOffset.MinValue, metrics.LastReceived);
        Assert.Null(metrics.StoreProblem);
        Assert.Null(metrics.RelayFailingSince);
    }

    [Fact]
    public void RelayFailureRunStartsAtTheFirstFailureAndEndsAtASuccess()
    {
        var metrics = new FailmailMetrics();
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        metrics.RelayFailed(t0);
        metrics.RelayFailed(t0.AddMinutes(1));
        Assert.Equal(t0, metrics.RelayFailingSince);
        Assert.Equal(2, metrics.RelayFailures);

        metrics.DigestSent();
        Assert.Null(metrics.RelayFailingSince);
        Assert.Equal(1, metrics.DigestsSent);

        metrics.RelayFailed(t0.AddMinutes(5));
        Assert.Equal(t0.AddMinutes(5), metrics.RelayFailingSince);
    }

    [Fact]
    public async Task CountersAndSessionGaugeAreThreadSafe()
    {
        var metrics = new FailmailMetrics();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                metrics.SmtpSessionOpened();
                metrics.MessageReceived();
                metrics.SmtpSessionClosed();
            }
            metrics.SmtpSessionOpened();
        }))).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(40_000, metrics.MessagesReceived);
        Assert.Equal(4, metrics.SmtpSessions);
    }

    [Fact]
    public void StoreProblemIsSetAndCleared()
    {
        var metrics = new FailmailMetrics();

        metrics.StoreWriteFailed("disk full");
        Assert.Equal("disk full", metrics.StoreProblem);

        metrics.StoreWriteSucceeded();
        Assert.Null(metrics.StoreProblem);
    }
}
