using Failmail.Batching;
using Failmail.GoSyntax;
using static Failmail.Tests.Batching.BatcherServiceKit;

namespace Failmail.Tests.Batching;

// Start, stop and polling: stored messages re-batched at start, the flush at shutdown,
// sender-only mode listing the store, --poll <= 0, and the intake gather.
public sealed class BatcherServiceLifecycleTests : IAsyncDisposable
{
    private readonly BatcherServiceKit _kit = new();

    public ValueTask DisposeAsync() => _kit.DisposeAsync();

    [Fact]
    public async Task RestartRebatchesStoredMessagesWithTheirOriginalReceiveTimes()
    {
        await _kit.StoreAsync("old alert", T0 - TimeSpan.FromMinutes(10));
        await _kit.StoreAsync("old alert", T0 - TimeSpan.FromMinutes(9));
        await _kit.StoreAsync("recent alert", T0 - TimeSpan.FromSeconds(1));
        var service = await _kit.StartAsync();
        // first + max-wait passed long ago: the digest leaves at start, not at the first poll.
        Assert.Equal(0, service.TicksProcessed);
        Assert.Equal(1, service.DeadlinesProcessed);
        Assert.Equal(0, service.Stats.PendingMessages);
        var digest = Assert.Single(_kit.Sender.Sent);
        Assert.Equal("[failmail] 3 instances of 2 messages", digest.Message.Subject);
        var oldest = GoFormat.Rfc1123Z(TimeZoneInfo.ConvertTime(T0 - TimeSpan.FromMinutes(10), TimeZoneInfo.Local));
        Assert.Contains($"Oldest message: {oldest}", digest.Message.TextBody, StringComparison.Ordinal);
        Assert.Empty(_kit.Store.LoadPending());
    }

    [Fact]
    public async Task ShutdownFlushesEveryPendingBatch()
    {
        await _kit.StartAsync();
        await _kit.AcceptAsync(await _kit.StoreAsync("a", to: "x@example.com"));
        await _kit.AcceptAsync(await _kit.StoreAsync("b", to: "y@example.com"));
        await _kit.TickAsync();
        Assert.Empty(_kit.Sender.Sent);
        await _kit.StopAsync();
        Assert.Equal(2, _kit.Sender.Sent.Count);
        Assert.Empty(_kit.Store.LoadPending());
    }

    [Fact]
    public async Task ShutdownFlushFailureLeavesTheMessagesInTheStore()
    {
        _kit.Sender.FailFor("x@example.com", times: 100);
        await _kit.StartAsync();
        await _kit.AcceptAsync(await _kit.StoreAsync("a", to: "x@example.com"));
        await _kit.StopAsync();
        Assert.Empty(_kit.Sender.Sent);
        Assert.Single(_kit.Store.LoadPending());
    }

    [Fact]
    public async Task SenderOnlyModePollsTheStoreForNewMessages()
    {
        var service = await _kit.StartAsync(pollStore: true);
        await _kit.StoreAsync("disk full");
        await _kit.TickAsync();
        Assert.Equal(1, service.Stats.PendingMessages);
        await _kit.TickAsync(6);
        Assert.Single(_kit.Sender.Sent);
        Assert.Empty(_kit.Store.LoadPending());
        await _kit.TickAsync(2);
        Assert.Single(_kit.Sender.Sent); // no duplicate from a later poll
    }

    [Fact]
    public async Task NonPositivePollStillFlushes()
    {
        var service = await _kit.StartAsync(Options() with { Poll = TimeSpan.Zero, WaitPeriod = TimeSpan.FromSeconds(2) });
        await _kit.AcceptAsync(await _kit.StoreAsync("x"));
        var ticks = service.TicksProcessed;
        _kit.Time.Advance(TimeSpan.FromSeconds(1));
        await service.WaitIdleAsync(ticks + 1).WaitAsync(Patience);
        _kit.Time.Advance(TimeSpan.FromSeconds(1));
        await service.WaitIdleAsync(ticks + 2).WaitAsync(Patience);
        Assert.Single(_kit.Sender.Sent);
    }

    [Fact]
    public async Task IntakeGatherTakesABurstInOnlyOnceItsWaitIsOver()
    {
        var gather = TimeSpan.FromMilliseconds(5);
        var service = await _kit.StartAsync(intakeGather: gather);
        var first = await _kit.StoreAsync("disk full");
        await service.AcceptAsync(first, CancellationToken.None);
        await service.WaitGatheringAsync().WaitAsync(Patience);
        // Queued while the loop waits: taken in by the same drain as the first.
        await service.AcceptAsync(await _kit.StoreAsync("disk full"), CancellationToken.None);
        await service.AcceptAsync(await _kit.StoreAsync("load high"), CancellationToken.None);
        Assert.Equal(0, service.Stats.PendingMessages);
        _kit.Time.Advance(gather - TimeSpan.FromMilliseconds(1));
        await service.WaitGatheringAsync().WaitAsync(Patience);
        Assert.Equal(0, service.Stats.PendingMessages);
        _kit.Time.Advance(TimeSpan.FromMilliseconds(1));
        await service.WaitIdleAsync().WaitAsync(Patience);
        Assert.Equal(3, service.Stats.PendingMessages);
        Assert.Equal(3, service.Stats.ActiveMessages);
    }

    [Fact]
    public async Task StopDuringTheIntakeGatherStillBatchesAndFlushesTheBurst()
    {
        var service = await _kit.StartAsync(intakeGather: TimeSpan.FromMinutes(1));
        await service.AcceptAsync(await _kit.StoreAsync("disk full"), CancellationToken.None);
        await service.WaitGatheringAsync().WaitAsync(Patience);
        await _kit.StopAsync();
        var digest = Assert.Single(_kit.Sender.Sent);
        Assert.Contains("disk full", digest.Message.Subject, StringComparison.Ordinal);
        Assert.Empty(_kit.Store.LoadPending());
    }
}
