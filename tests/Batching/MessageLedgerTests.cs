using Failmail.Batching;

namespace Failmail.Tests.Batching;

public class MessageLedgerTests
{
    private static readonly DateTimeOffset T0 = new(2014, 7, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void MessageIsDoneOnlyAfterItsLastDigest()
    {
        var ledger = new MessageLedger();
        Assert.True(ledger.TryTrack("m"));
        ledger.Expect("m", 2, T0);
        Assert.Empty(ledger.Delivered(new[] { "m" }));
        Assert.Equal(1, ledger.Pending);
        Assert.Equal(new[] { "m" }, ledger.Delivered(new[] { "m" }));
        Assert.Equal(0, ledger.Pending);
        Assert.Empty(ledger.Delivered(new[] { "m" }));
    }

    [Fact]
    public void TrackedIdsAreNotTakenTwiceUntilRemovedOrForgotten()
    {
        var ledger = new MessageLedger();
        Assert.True(ledger.TryTrack("a"));
        Assert.False(ledger.TryTrack("a"));
        ledger.Removed(new[] { "a" });
        Assert.True(ledger.TryTrack("a"));
        ledger.Forget("a");
        Assert.True(ledger.TryTrack("a"));
    }

    [Fact]
    public void OldestPendingSkipsDeliveredMessages()
    {
        var ledger = new MessageLedger();
        Assert.Null(ledger.OldestPending());
        ledger.Expect("a", 1, T0);
        ledger.Expect("b", 1, T0.AddMinutes(1));
        Assert.Equal(T0, ledger.OldestPending());
        ledger.Delivered(new[] { "a" });
        Assert.Equal(T0.AddMinutes(1), ledger.OldestPending());
    }
}
