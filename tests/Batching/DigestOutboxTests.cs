using Failmail.Batching;
using MimeKit;

namespace Failmail.Tests.Batching;

public class DigestOutboxTests
{
    private static Digest Digest(string recipient) => new("", recipient, new MimeMessage(), new[] { "1" });

    [Fact]
    public void NewDigestsAreDueAtOnce()
    {
        var outbox = new DigestOutbox(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10), frequency: 1);
        outbox.Add(Digest("a@x"));
        Assert.Single(outbox.Due(long.MinValue + 1));
    }

    [Fact]
    public void FailuresBackOffFromPollDoublingUpToRetryMax()
    {
        var outbox = new DigestOutbox(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), frequency: 1);
        outbox.Add(Digest("a@x"));
        var entry = Assert.Single(outbox.Due(0));
        var delays = new List<double>();
        var now = 0L;
        for (var i = 0; i < 5; i++)
        {
            delays.Add(outbox.Failed(entry, now).TotalSeconds);
            Assert.Empty(outbox.Due(now + (long)delays[^1] - 1));
            now += (long)delays[^1];
            Assert.Same(entry, Assert.Single(outbox.Due(now)));
        }
        Assert.Equal(new double[] { 5, 10, 20, 30, 30 }, delays);
        Assert.Equal(5, entry.Attempts);
        outbox.Sent(entry);
        Assert.Equal(0, outbox.Count);
    }

    [Fact]
    public void RetryMaxBelowPollUsesPoll()
    {
        var outbox = new DigestOutbox(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), frequency: 1000);
        outbox.Add(Digest("a@x"));
        var entry = outbox.All()[0];
        Assert.Equal(TimeSpan.FromSeconds(5), outbox.Failed(entry, 0));
        Assert.Equal(TimeSpan.FromSeconds(5), outbox.Failed(entry, 0));
        Assert.Equal(5000, entry.NextAttempt);
    }
}
