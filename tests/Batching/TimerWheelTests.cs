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
    public void SlotCountMustBeAPowerOfTwo()
    {
        Assert.Throws<ArgumentException>(() => new TimerWheel<int>(1000));
    }
}
