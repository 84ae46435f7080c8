using Failmail.Batching;

namespace Failmail.Tests.Batching;

// --first-wait and --follow-up-interval (issue 13) on the pure batcher: deadlines to the tick.
public class BatcherTimingTests
{
    private static readonly DateTimeOffset T0 = new(2014, 7, 1, 12, 0, 0, TimeSpan.Zero);

    private static BatchedMessage Msg(long at, string batch = "", string to = "ops@example.com") =>
        new($"m{at}-{batch}-{to}", batch, "disk full", "disk full", [to], T0.AddSeconds(at));

    [Fact]
    public void DefaultsKeepFailmailsDeadline()
    {
        var batcher = new Batcher(waitPeriod: 30, maxWait: 300);
        batcher.Add(Msg(0), 0);
        Assert.Empty(batcher.Tick(29));
        Assert.False(Assert.Single(batcher.Tick(30)).FollowUp);
    }

    [Fact]
    public void FirstWaitSendsTheFirstDigestWithoutWaitingForQuiet()
    {
        var batcher = new Batcher(waitPeriod: 30, maxWait: 300, firstWait: 5);
        for (var t = 0; t < 5; t++)
        {
            batcher.Add(Msg(t), t); // never quiet
            Assert.Empty(batcher.Tick(t));
        }
        Assert.Equal(5, batcher.NextDeadline);
        var due = Assert.Single(batcher.Tick(5));
        Assert.Equal(5, due.TotalMessages);
        Assert.False(due.FollowUp);
    }

    [Fact]
    public void FirstWaitLongerThanTheQuietPeriodChangesNothing()
    {
        var batcher = new Batcher(waitPeriod: 3, maxWait: 300, firstWait: 10);
        batcher.Add(Msg(0), 0);
        Assert.Empty(batcher.Tick(2));
        Assert.Single(batcher.Tick(3));
    }

    [Fact]
    public void WithoutFollowUpEveryNewBatchIsAFirst()
    {
        var batcher = new Batcher(waitPeriod: 30, maxWait: 300, firstWait: 5);
        batcher.Add(Msg(0), 0);
        Assert.Single(batcher.Tick(5));
        batcher.Add(Msg(6), 6);
        Assert.Empty(batcher.Tick(10));
        Assert.Single(batcher.Tick(11));
        Assert.Equal(0, batcher.RememberedDigests);
    }

    // An hour-long storm, one message a second, with max-wait 5 min and follow-up 10 min: the
    // first digest at first-wait, then one per 10 minutes, each a follow-up with its count.
    [Fact]
    public void ALongStormGivesOneDigestPerFollowUpInterval()
    {
        var batcher = new Batcher(waitPeriod: 30, maxWait: 300, firstWait: 10, followUp: 600);
        var sent = new List<(long At, DueBatch Batch)>();
        for (var t = 0; t < 3600; t++)
        {
            batcher.Add(Msg(t), t);
            foreach (var due in batcher.Tick(t))
            {
                sent.Add((t, due));
            }
        }
        Assert.Equal([10L, 610, 1210, 1810, 2410, 3010], sent.Select(s => s.At));
        Assert.False(sent[0].Batch.FollowUp);
        Assert.Equal(11, sent[0].Batch.TotalMessages);
        Assert.All(sent.Skip(1), s => Assert.True(s.Batch.FollowUp));
        Assert.All(sent.Skip(1), s => Assert.Equal(600, s.Batch.TotalMessages));
        // The rest goes when the storm is quiet for the wait period, but not before 3010 + 600.
        Assert.Empty(batcher.Tick(3609));
        var last = Assert.Single(batcher.Tick(3610));
        Assert.True(last.FollowUp);
        Assert.Equal(589, last.TotalMessages);
        Assert.Equal(3600, sent.Sum(s => s.Batch.TotalMessages) + last.TotalMessages);
    }

    [Fact]
    public void AfterTheFollowUpIntervalABatchIsAFirstAgain()
    {
        var batcher = new Batcher(waitPeriod: 30, maxWait: 300, firstWait: 5, followUp: 100);
        batcher.Add(Msg(0), 0);
        Assert.Single(batcher.Tick(5));
        Assert.Equal(1, batcher.RememberedDigests);
        // Within the interval: waits until 5 + 100 even though quiet comes at 40 + 30.
        batcher.Add(Msg(40), 40);
        Assert.Empty(batcher.Tick(70));
        Assert.Empty(batcher.Tick(104));
        var followUp = Assert.Single(batcher.Tick(105));
        Assert.True(followUp.FollowUp);
        // 105 + 100 later the memory is gone: a first digest again, at first-wait.
        Assert.Empty(batcher.Tick(205));
        Assert.Equal(0, batcher.RememberedDigests);
        batcher.Add(Msg(206), 206);
        var first = Assert.Single(batcher.Tick(211));
        Assert.False(first.FollowUp);
    }

    [Fact]
    public void FollowUpIsPerBatchKeyAndRecipient()
    {
        var batcher = new Batcher(waitPeriod: 10, maxWait: 300, followUp: 100);
        batcher.Add(Msg(0, batch: "db"), 0);
        Assert.Single(batcher.Tick(10));
        batcher.Add(Msg(20, batch: "db"), 20);
        batcher.Add(Msg(20, batch: "web"), 20);
        batcher.Add(Msg(20, batch: "db", to: "dev@example.com"), 20);
        var due = batcher.Tick(30);
        Assert.Equal(2, due.Count);
        Assert.DoesNotContain(due, d => d.BatchKey == "db" && d.Recipient == "ops@example.com");
        Assert.All(due, d => Assert.False(d.FollowUp));
        Assert.True(Assert.Single(batcher.Tick(110)).FollowUp);
    }

    [Fact]
    public void TheLastSentMemoryIsBounded()
    {
        var batcher = new Batcher(waitPeriod: 1, maxWait: 10, followUp: long.MaxValue / 4);
        for (var i = 0; i < Batcher.MaxRemembered + 50; i++)
        {
            batcher.Add(Msg(0, batch: $"k{i}"), 0);
        }
        Assert.Equal(Batcher.MaxRemembered + 50, batcher.Tick(1).Count);
        Assert.Equal(Batcher.MaxRemembered, batcher.RememberedDigests);
    }

    [Fact]
    public void FlushAllSendsFollowUpsEarly()
    {
        var batcher = new Batcher(waitPeriod: 10, maxWait: 300, followUp: 100);
        batcher.Add(Msg(0), 0);
        Assert.Single(batcher.Tick(10));
        batcher.Add(Msg(11), 11);
        Assert.True(Assert.Single(batcher.FlushAll()).FollowUp);
    }
}
