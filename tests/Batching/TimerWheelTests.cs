using Failmail.Batching;

namespace Failmail.Tests.Batching;

public class TimerWheelTests
{
    [Fact]
    public void ItemFiresAtItsDueTickInclusiveAndNotBefore()
    {
        var wheel = new TimerWheel<string>(8);
        var expired = new List<string>();
        wheel.Schedule(5, "a");
        wheel.Advance(4, expired);
        Assert.Empty(expired);
        wheel.Advance(5, expired);
        Assert.Equal(new[] { "a" }, expired);
        Assert.Equal(0, wheel.Count);
    }

    [Fact]
    public void DeadlinesFurtherThanOneTurnWaitForTheirRound()
    {
        var wheel = new TimerWheel<int>(8);
        var expired = new List<int>();
        wheel.Advance(0, expired);
        wheel.Schedule(3, 3);
        wheel.Schedule(11, 11); // same slot, one turn later
        wheel.Schedule(19, 19); // two turns later
        for (var now = 0L; now <= 25; now++)
        {
            var before = expired.Count;
            wheel.Advance(now, expired);
            foreach (var item in expired.Skip(before))
            {
                Assert.Equal(item, now); // fires exactly at its tick, never a turn early
            }
        }
        Assert.Equal(new[] { 3, 11, 19 }, expired);
    }

    [Fact]
    public void ALargeJumpFiresEverythingDueAndKeepsTheRest()
    {
        var wheel = new TimerWheel<long>(16);
        var expired = new List<long>();
        wheel.Advance(0, expired);
        for (long due = 1; due <= 1000; due++)
        {
            wheel.Schedule(due, due);
        }
        wheel.Advance(500, expired);
        Assert.Equal(500, expired.Count);
        Assert.True(expired.All(d => d <= 500));
        Assert.Equal(500, wheel.Count);
        expired.Clear();
        wheel.Advance(100_000, expired);
        Assert.Equal(500, expired.Count);
        Assert.True(expired.All(d => d > 500));
    }

    [Fact]
    public void APastDeadlineFiresOnTheNextAdvance()
    {
        var wheel = new TimerWheel<string>(8);
        var expired = new List<string>();
        wheel.Advance(100, expired);
        wheel.Schedule(50, "late");
        wheel.Advance(100, expired);
        Assert.Equal(new[] { "late" }, expired);
    }

    [Fact]
    public void ResolutionGroupsTicksIntoSlotsButComparesExactTicks()
    {
        var wheel = new TimerWheel<string>(4, resolution: 10);
        var expired = new List<string>();
        wheel.Advance(0, expired);
        wheel.Schedule(13, "a");
        wheel.Schedule(17, "b");
        wheel.Advance(15, expired);
        Assert.Equal(new[] { "a" }, expired);
        wheel.Advance(17, expired);
        Assert.Equal(new[] { "a", "b" }, expired);
    }

    [Fact]
    public void NegativeTicksWork()
    {
        var wheel = new TimerWheel<string>(8, resolution: 3);
        var expired = new List<string>();
        wheel.Schedule(-10, "a");
        wheel.Schedule(-1, "b");
        wheel.Advance(-5, expired);
        Assert.Equal(new[] { "a" }, expired);
        wheel.Advance(0, expired);
        Assert.Equal(new[] { "a", "b" }, expired);
    }

    [Fact]
    public void HundredThousandItemsAllFireOnceInOrderOfTheirSlots()
    {
        var wheel = new TimerWheel<int>(1024);
        var expired = new List<int>();
        var random = new Random(7);
        var dues = new int[100_000];
        wheel.Advance(0, expired);
        for (var i = 0; i < dues.Length; i++)
        {
            dues[i] = random.Next(1, 50_000);
            wheel.Schedule(dues[i], i);
        }
        var fired = new int[dues.Length];
        for (long now = 0; now < 50_000 + 37; now += 37)
        {
            expired.Clear();
            wheel.Advance(now, expired);
            foreach (var i in expired)
            {
                Assert.True(dues[i] <= now && dues[i] > now - 37, $"item {i} due {dues[i]} fired at {now}");
                fired[i]++;
            }
        }
        Assert.All(fired, f => Assert.Equal(1, f));
        Assert.Equal(0, wheel.Count);
    }

    [Fact]
    public void NextDueIsTheEarliestEntryToTheTick()
    {
        var wheel = new TimerWheel<string>(8, resolution: 10);
        Assert.False(wheel.TryNextDue(out _));
        var expired = new List<string>();
        wheel.Advance(0, expired);
        wheel.Schedule(57, "a");
        wheel.Schedule(53, "b");
        wheel.Schedule(1234, "far"); // many turns away
        Assert.True(wheel.TryNextDue(out var due));
        Assert.Equal(53, due);
        wheel.Advance(52, expired);
        Assert.Empty(expired);
        wheel.Advance(53, expired);
        Assert.Equal(new[] { "b" }, expired);
        Assert.True(wheel.TryNextDue(out due));
        Assert.Equal(57, due); // the rest of the slot the cursor stands on
        wheel.Advance(57, expired);
        Assert.True(wheel.TryNextDue(out due));
        Assert.Equal(1234, due); // only an entry several turns away is left
        wheel.Advance(1233, expired);
        Assert.True(wheel.TryNextDue(out due));
        Assert.Equal(1234, due);
        wheel.Advance(1234, expired);
        Assert.Equal(new[] { "b", "a", "far" }, expired);
        Assert.False(wheel.TryNextDue(out _));
    }

    [Fact]
    public void NextDueOfAnEntryScheduledInThePastIsItsOwnTick()
    {
        var wheel = new TimerWheel<string>(8, resolution: 10);
        var expired = new List<string>();
        wheel.Advance(100, expired);
        wheel.Schedule(400, "later");
        wheel.Schedule(42, "late"); // in the past: it waits in the cursor's slot
        Assert.True(wheel.TryNextDue(out var due));
        Assert.Equal(42, due);
        wheel.Advance(100, expired);
        Assert.Equal(new[] { "late" }, expired);
        Assert.True(wheel.TryNextDue(out due));
        Assert.Equal(400, due);
    }

    [Fact]
    public void NextDueMatchesTheFirstItemAdvanceFiresForRandomDeadlines()
    {
        var random = new Random(13);
        var wheel = new TimerWheel<long>(16, resolution: 7);
        var expired = new List<long>();
        var pending = new List<long>();
        var now = 0L;
        wheel.Advance(now, expired);
        for (var round = 0; round < 2000; round++)
        {
            if (random.Next(3) > 0)
            {
                var due = now + random.Next(-20, 800);
                wheel.Schedule(due, due);
                pending.Add(due);
            }
            if (pending.Count == 0)
            {
                Assert.False(wheel.TryNextDue(out _));
                continue;
            }
            Assert.True(wheel.TryNextDue(out var next));
            Assert.Equal(pending.Min(), next);
            now = Math.Max(now, next) + random.Next(0, 3);
            expired.Clear();
            wheel.Advance(now, expired);
            Assert.Contains(next, expired);
            foreach (var fired in expired)
            {
                Assert.True(pending.Remove(fired));
            }
            Assert.DoesNotContain(pending, p => p <= now);
        }
    }

    [Fact]
    public void AnEntryScheduledBehindAFreshCursorFiresAtItsOwnTick()
    {
        // The cursor starts at the first deadline scheduled (30); a later, earlier one (10)
        // must not wait for it.
        var wheel = new TimerWheel<string>(8, resolution: 4);
        var expired = new List<string>();
        wheel.Schedule(30, "first");
        wheel.Schedule(10, "sooner");
        Assert.True(wheel.TryNextDue(out var due));
        Assert.Equal(10, due);
        wheel.Advance(9, expired);
        Assert.Empty(expired);
        wheel.Advance(10, expired);
        Assert.Equal(new[] { "sooner" }, expired);
        wheel.Advance(30, expired);
        Assert.Equal(new[] { "sooner", "first" }, expired);
    }

    [Fact]
    public void SlotCountMustBeAPowerOfTwo()
    {
        Assert.Throws<ArgumentException>(() => new TimerWheel<int>(1000));
    }
}
