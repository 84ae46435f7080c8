using Failmail.Batching;

namespace Failmail.Tests.Batching;

public class BatcherTests
{
    private static readonly DateTimeOffset T0 = new(2014, 7, 1, 12, 0, 0, TimeSpan.Zero);

    private static BatchedMessage Msg(string id, long at, string subject = "test", string batch = "", string group = "", params string[] to) =>
        new(id, batch, group.Length == 0 ? subject : group, subject, to.Length == 0 ? new[] { "ops@example.com" } : to, T0.AddSeconds(at));

    [Fact]
    public void FailmailSoftAndHardLimitSequence()
    {
        // spec §4.3: soft 5, hard 9.
        var batcher = new Batcher(waitPeriod: 5, maxWait: 9);
        batcher.Add(Msg("1", 0), 0);
        Assert.Empty(batcher.Tick(0));
        Assert.Equal(1, batcher.ActiveBatches);
        batcher.Add(Msg("2", 5), 5);
        Assert.Empty(batcher.Tick(5));
        Assert.Equal(2, batcher.ActiveMessages);
        Assert.Empty(batcher.Tick(8));
        var due = Assert.Single(batcher.Tick(9));
        Assert.Equal(2, due.TotalMessages);
        var group = Assert.Single(due.Groups);
        Assert.Equal(2, group.Count);
        Assert.Equal("2", group.LastMessageId);
        Assert.Equal(0, batcher.ActiveBatches);
        Assert.Equal(0, batcher.ActiveMessages);
    }

    [Fact]
    public void AHundredThousandMessagesAreOneDigestWithExactCounts()
    {
        var batcher = new Batcher(waitPeriod: 10, maxWait: 1_000_000);
        for (var i = 0; i < 100_000; i++)
        {
            // One message per tick for 1,000 subjects: the quiet period never passes.
            batcher.Add(Msg(i.ToString(System.Globalization.CultureInfo.InvariantCulture), i, subject: $"alert {i % 1000}"), i);
            if (i % 997 == 0)
            {
                Assert.Empty(batcher.Tick(i));
            }
        }
        Assert.Equal(1, batcher.ActiveBatches);
        Assert.Equal(100_000, batcher.ActiveMessages);
        Assert.Empty(batcher.Tick(100_008));
        var due = Assert.Single(batcher.Tick(100_009));
        Assert.Equal(100_000, due.TotalMessages);
        Assert.Equal(100_000, due.MessageIds.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(1000, due.Groups.Count);
        Assert.All(due.Groups, g => Assert.Equal(100, g.Count));
        Assert.Equal(100_000, due.Groups.Sum(g => g.Count));
        Assert.Equal("alert 0", due.Groups[0].Subject); // equal counts: first appearance first
        Assert.Equal("99000", due.Groups[0].LastMessageId);
        Assert.Equal(T0.AddSeconds(99_999), due.Newest);
        Assert.Null(batcher.NextDeadline);
    }

    [Fact]
    public void NextDeadlineIsMinOfQuietPeriodAndMaxWaitToTheTick()
    {
        var batcher = new Batcher(waitPeriod: 10, maxWait: 25);
        Assert.Null(batcher.NextDeadline);
        batcher.Add(Msg("1", 0), 0);
        Assert.Equal(10, batcher.NextDeadline);
        batcher.Add(Msg("2", 8, subject: "b"), 8); // extends the quiet period to 18, lazily
        Assert.Equal(10, batcher.NextDeadline);
        Assert.Empty(batcher.Tick(10)); // an early wake moves the timer to the real deadline
        Assert.Equal(18, batcher.NextDeadline);
        batcher.Add(Msg("3", 17), 17);
        batcher.Add(Msg("4", 3, batch: "other"), 3);
        Assert.Equal(13, batcher.NextDeadline);
        Assert.Equal("other", Assert.Single(batcher.Tick(13)).BatchKey);
        Assert.Equal(18, batcher.NextDeadline);
        Assert.Empty(batcher.Tick(18));
        Assert.Equal(25, batcher.NextDeadline); // first + max-wait comes before 17 + 10
        Assert.Empty(batcher.Tick(24));
        var due = Assert.Single(batcher.Tick(25));
        Assert.Equal(3, due.TotalMessages);
        Assert.Null(batcher.NextDeadline);
    }

    [Fact]
    public void QuietPeriodIsInclusive()
    {
        var batcher = new Batcher(waitPeriod: 10, maxWait: 100);
        batcher.Add(Msg("1", 0), 0);
        Assert.Empty(batcher.Tick(9));
        Assert.Single(batcher.Tick(10));
    }

    [Fact]
    public void EachMessageExtendsTheQuietPeriodUntilMaxWait()
    {
        var batcher = new Batcher(waitPeriod: 10, maxWait: 35);
        for (var t = 0; t <= 30; t += 6)
        {
            batcher.Add(Msg($"m{t}", t), t);
            Assert.Empty(batcher.Tick(t));
        }
        Assert.Empty(batcher.Tick(34));
        var due = Assert.Single(batcher.Tick(35));
        Assert.Equal(6, due.TotalMessages);
    }

    [Fact]
    public void LazilyRescheduledBatchFiresAtTheExtendedDeadline()
    {
        var batcher = new Batcher(waitPeriod: 10, maxWait: 1000);
        batcher.Add(Msg("1", 0), 0);
        batcher.Add(Msg("2", 8), 8);
        Assert.Empty(batcher.Tick(10)); // the wheel entry fires at 10; the deadline moved to 18
        Assert.Empty(batcher.Tick(17));
        Assert.Single(batcher.Tick(18));
    }

    [Fact]
    public void MessageArrivingExactlyAtTheQuietDeadlineJoinsAndExtends()
    {
        var batcher = new Batcher(waitPeriod: 10, maxWait: 1000);
        batcher.Add(Msg("1", 0), 0);
        batcher.Add(Msg("2", 10), 10);
        Assert.Empty(batcher.Tick(10));
        var due = Assert.Single(batcher.Tick(20));
        Assert.Equal(new[] { "1", "2" }, due.MessageIds);
    }

    [Fact]
    public void MessageArrivingExactlyAtMaxWaitJoinsAndTheBatchIsDue()
    {
        var batcher = new Batcher(waitPeriod: 10, maxWait: 20);
        batcher.Add(Msg("1", 0), 0);
        batcher.Add(Msg("2", 9), 9);
        batcher.Add(Msg("3", 18), 18);
        batcher.Add(Msg("4", 20), 20);
        var due = Assert.Single(batcher.Tick(20));
        Assert.Equal(4, due.TotalMessages);
    }

    [Fact]
    public void MessageAfterADueBatchStartsANewBatch()
    {
        var batcher = new Batcher(waitPeriod: 10, maxWait: 20);
        batcher.Add(Msg("1", 0), 0);
        Assert.Single(batcher.Tick(10));
        batcher.Add(Msg("2", 11), 11);
        Assert.Empty(batcher.Tick(20));
        var due = Assert.Single(batcher.Tick(21));
        Assert.Equal(new[] { "2" }, due.MessageIds);
    }

    [Fact]
    public void OneBatchPerRecipientWithDomainCaseFoldedOnly()
    {
        var batcher = new Batcher(waitPeriod: 10, maxWait: 100);
        batcher.Add(Msg("1", 0, to: new[] { "ops@example.com", "Dev <dev@Example.COM>" }), 0);
        batcher.Add(Msg("2", 1, to: new[] { "<OPS@EXAMPLE.COM>" }), 1);
        batcher.Add(Msg("3", 2, to: new[] { "dev@example.com", "DEV@example.com" }), 2);
        var due = batcher.Tick(100).OrderBy(d => d.Recipient, StringComparer.Ordinal).ToList();
        Assert.Equal(new[] { "DEV@example.com", "OPS@example.com", "dev@example.com", "ops@example.com" }, due.Select(d => d.Recipient));
        Assert.Equal(new[] { "3" }, due[0].MessageIds);
        Assert.Equal(new[] { "2" }, due[1].MessageIds);
        Assert.Equal(new[] { "1", "3" }, due[2].MessageIds);
        Assert.Equal(new[] { "1" }, due[3].MessageIds);
    }

    [Fact]
    public void DuplicateRecipientsCountOnce()
    {
        var message = Msg("1", 0, to: new[] { "a@x.org", "<a@X.ORG>", "b@x.org" });
        Assert.Equal(2, Batcher.CountBatches(message));
        var batcher = new Batcher(waitPeriod: 1, maxWait: 1);
        batcher.Add(message, 0);
        Assert.Equal(2, batcher.Tick(1).Count);
    }

    [Fact]
    public void BatchKeysSplitAndGroupKeysGroup()
    {
        var batcher = new Batcher(waitPeriod: 10, maxWait: 100);
        batcher.Add(Msg("1", 0, subject: "disk full", batch: "a"), 0);
        batcher.Add(Msg("2", 1, subject: "cpu hot", batch: "a"), 1);
        batcher.Add(Msg("3", 2, subject: "disk full again", batch: "a", group: "disk full"), 2);
        batcher.Add(Msg("4", 3, subject: "disk full", batch: "b"), 3);
        var due = batcher.Tick(100).OrderBy(d => d.BatchKey, StringComparer.Ordinal).ToList();
        Assert.Equal(2, due.Count);
        var a = due[0];
        Assert.Equal("a", a.BatchKey);
        Assert.Equal(3, a.TotalMessages);
        Assert.Equal(new[] { "disk full", "cpu hot" }, a.Groups.Select(g => g.Key));
        var disk = a.Groups[0];
        Assert.Equal(2, disk.Count);
        Assert.Equal("disk full again", disk.Subject);
        Assert.Equal("3", disk.LastMessageId);
        Assert.Equal(T0, disk.First);
        Assert.Equal(T0.AddSeconds(2), disk.Last);
        Assert.Equal(T0, a.Oldest);
        Assert.Equal(T0.AddSeconds(2), a.Newest);
        Assert.Equal(new[] { "4" }, due[1].MessageIds);
    }

    [Fact]
    public void GroupsOrderByCountThenFirstAppearance()
    {
        var batcher = new Batcher(waitPeriod: 10, maxWait: 100);
        string[] subjects = { "a", "b", "c", "b", "c", "d" };
        for (var i = 0; i < subjects.Length; i++)
        {
            batcher.Add(Msg($"{i}", i, subject: subjects[i]), i);
        }
        var due = Assert.Single(batcher.Tick(100));
        Assert.Equal(new[] { "b", "c", "a", "d" }, due.Groups.Select(g => g.Key));
    }

    [Fact]
    public void FlushAllReturnsEveryBatchWhateverItsTimers()
    {
        var batcher = new Batcher(waitPeriod: 10, maxWait: 100);
        batcher.Add(Msg("1", 0, batch: "a"), 0);
        batcher.Add(Msg("2", 4, batch: "b"), 4);
        Assert.Equal(2, batcher.FlushAll().Count);
        Assert.Equal(0, batcher.ActiveBatches);
        Assert.Empty(batcher.Tick(1000));
    }

    [Fact]
    public void OldReceiveTimesFromARestartAreDueAtOnce()
    {
        var batcher = new Batcher(waitPeriod: 30, maxWait: 300);
        batcher.Add(Msg("old", -500), -500);
        batcher.Add(Msg("recent", -10), -10);
        Assert.Single(batcher.Tick(0)); // first + maxWait = -200 has passed
    }

    [Fact]
    public void ThousandsOfBatchesEachFireOnceAtTheirDeadline()
    {
        var batcher = new Batcher(waitPeriod: 50, maxWait: 500, wheelSlots: 256);
        const int batches = 5000;
        for (var i = 0; i < 20_000; i++)
        {
            var key = (i % batches).ToString(System.Globalization.CultureInfo.InvariantCulture);
            batcher.Add(Msg($"m{i}", i / 100, batch: key), i / 100);
        }
        Assert.Equal(batches, batcher.ActiveBatches);
        var seen = new Dictionary<string, int>();
        for (long now = 0; now <= 1000; now++)
        {
            foreach (var due in batcher.Tick(now))
            {
                seen[due.BatchKey] = seen.GetValueOrDefault(due.BatchKey) + due.TotalMessages;
            }
        }
        Assert.Equal(batches, seen.Count);
        Assert.All(seen.Values, n => Assert.Equal(4, n));
        Assert.Equal(0, batcher.ActiveBatches);
    }
}
