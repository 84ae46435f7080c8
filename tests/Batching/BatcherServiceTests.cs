using static Failmail.Tests.Batching.BatcherServiceKit;

namespace Failmail.Tests.Batching;

// Messages in, digests out: when a digest is handed on, what it holds, and when its messages
// leave the store (retries and several recipients included).
public sealed class BatcherServiceTests : IAsyncDisposable
{
    private readonly BatcherServiceKit _kit = new();

    public ValueTask DisposeAsync() => _kit.DisposeAsync();

    [Fact]
    public async Task DigestGoesOutAfterTheQuietPeriodAndTheMessageLeavesTheStore()
    {
        var service = await _kit.StartAsync();
        Assert.True(service.HasCapacity);
        await _kit.AcceptAsync(await _kit.StoreAsync("disk full"));
        Assert.Equal(1, service.Stats.ActiveBatches);
        Assert.Equal(1, service.Stats.PendingMessages);
        await _kit.TickAsync(5);
        Assert.Empty(_kit.Sender.Sent);
        await _kit.TickAsync();
        var digest = Assert.Single(_kit.Sender.Sent);
        Assert.Equal("ops@example.com", digest.Recipient);
        Assert.Equal("[failmail] 1 instance: disk full", digest.Message.Subject);
        Assert.Contains("body of disk full", digest.Message.TextBody, StringComparison.Ordinal);
        Assert.Empty(_kit.Store.LoadPending());
        Assert.Equal(1, service.Stats.DigestsSent);
        Assert.Equal(0, service.Stats.ActiveBatches);
        Assert.Equal(0, service.Stats.PendingMessages);
    }

    // Issue 13: the digest leaves at its deadline, not at the next --poll.
    [Fact]
    public async Task DigestLeavesAtItsDeadlineToTheTickWhateverThePoll()
    {
        var options = Options() with { WaitPeriod = TimeSpan.FromSeconds(2), Poll = TimeSpan.FromSeconds(10) };
        var service = await _kit.StartAsync(options);
        await _kit.AcceptAsync(await _kit.StoreAsync("disk full"));
        _kit.Time.Advance(TimeSpan.FromMilliseconds(1999));
        await service.WaitIdleAsync().WaitAsync(Patience);
        Assert.Empty(_kit.Sender.Sent);
        _kit.Time.Advance(TimeSpan.FromMilliseconds(1));
        await service.WaitDeadlinesAsync(1).WaitAsync(Patience);
        var digest = Assert.Single(_kit.Sender.Sent);
        Assert.Equal("[failmail] 1 instance: disk full", digest.Message.Subject);
        Assert.Equal(0, service.TicksProcessed);
        Assert.Empty(_kit.Store.LoadPending());
    }

    [Fact]
    public async Task ANewBatchDueSoonerThanTheArmedDeadlineWakesTheLoopSooner()
    {
        var options = Options() with { WaitPeriod = TimeSpan.FromSeconds(3), MaxWait = TimeSpan.FromSeconds(4), Poll = TimeSpan.FromMinutes(1) };
        var service = await _kit.StartAsync(options);
        // Received 2 s ago (re-batched): due at +2 s, before the first message's +3 s.
        await _kit.AcceptAsync(await _kit.StoreAsync("a", to: "x@example.com"));
        await _kit.AcceptAsync(await _kit.StoreAsync("b", T0 - TimeSpan.FromSeconds(2), to: "y@example.com"));
        _kit.Time.Advance(TimeSpan.FromSeconds(2));
        await service.WaitDeadlinesAsync(1).WaitAsync(Patience);
        Assert.Equal(new[] { "y@example.com" }, _kit.Sender.Sent.Select(d => d.Recipient));
        _kit.Time.Advance(TimeSpan.FromSeconds(1));
        await service.WaitDeadlinesAsync(2).WaitAsync(Patience);
        Assert.Equal(new[] { "y@example.com", "x@example.com" }, _kit.Sender.Sent.Select(d => d.Recipient));
        Assert.Equal(0, service.TicksProcessed);
    }

    [Fact]
    public async Task MessageForTwoRecipientsLeavesTheStoreOnlyWhenBothDigestsAreOut()
    {
        _kit.Sender.FailFor("b@example.com", times: 1);
        await _kit.StartAsync();
        await _kit.AcceptAsync(await _kit.StoreAsync("disk full", to: new[] { "a@example.com", "b@example.com" }));
        await _kit.TickAsync(6);
        Assert.Equal(new[] { "a@example.com" }, _kit.Sender.Sent.Select(d => d.Recipient));
        Assert.Single(_kit.Store.LoadPending());
        await _kit.TickAsync();
        Assert.Equal(new[] { "a@example.com", "b@example.com" }, _kit.Sender.Sent.Select(d => d.Recipient));
        Assert.Empty(_kit.Store.LoadPending());
    }

    [Fact]
    public async Task FailedSendKeepsTheMessagesAndBacksOff()
    {
        _kit.Sender.FailFor("ops@example.com", times: 3);
        var service = await _kit.StartAsync();
        await _kit.AcceptAsync(await _kit.StoreAsync("disk full"));
        await _kit.TickAsync(6); // due: attempt 1 fails, next in 5 s
        Assert.Equal(1, _kit.Sender.Attempts);
        await _kit.TickAsync(); // attempt 2 fails, next in 10 s
        Assert.Equal(2, _kit.Sender.Attempts);
        await _kit.TickAsync();
        Assert.Equal(2, _kit.Sender.Attempts); // backing off, no storm
        await _kit.TickAsync(); // attempt 3 fails, next in 20 s (the cap)
        Assert.Equal(3, _kit.Sender.Attempts);
        Assert.Single(_kit.Store.LoadPending());
        Assert.Equal(1, service.Stats.ActiveBatches);
        await _kit.TickAsync(3);
        Assert.Equal(3, _kit.Sender.Attempts);
        await _kit.TickAsync();
        Assert.Equal(4, _kit.Sender.Attempts);
        Assert.Single(_kit.Sender.Sent);
        Assert.Empty(_kit.Store.LoadPending());
    }

    [Fact]
    public async Task DigestComingBackIsPassedOnUnchangedPerRecipient()
    {
        await _kit.StartAsync();
        var m = await _kit.StoreAsync("[failmail] 2 instances: x", extraHeaders: "X-Failmail-Digest: 1\r\n", to: new[] { "a@example.com", "b@example.com" });
        await _kit.AcceptAsync(m);
        await _kit.TickAsync();
        Assert.Equal(2, _kit.Sender.Sent.Count);
        Assert.All(_kit.Sender.Sent, d => Assert.Equal("[failmail] 2 instances: x", d.Message.Subject));
        Assert.Equal(new[] { "a@example.com", "b@example.com" }, _kit.Sender.Sent.Select(d => d.Recipient).Order(StringComparer.Ordinal));
        Assert.Empty(_kit.Store.LoadPending());
    }

    // Each message is read once: the digest shows the newest message of each group from the
    // bytes the batcher kept, not by reading it back.
    [Fact]
    public async Task DigestBodiesComeFromTheBytesReadForBatching()
    {
        var store = new CountingStore(_kit.Store);
        await _kit.StartAsync(store: store);
        await _kit.AcceptAsync(await _kit.StoreAsync("disk full"));
        await _kit.AcceptAsync(await _kit.StoreAsync("disk full"));
        await _kit.AcceptAsync(await _kit.StoreAsync("cpu hot", to: new[] { "ops@example.com", "dev@example.com" }));
        await _kit.TickAsync(7);
        Assert.Equal(2, _kit.Sender.Sent.Count);
        Assert.Equal(3, store.Reads);
        var ops = Assert.Single(_kit.Sender.Sent, d => d.Recipient == "ops@example.com");
        var text = Assert.IsType<MimeKit.TextPart>(ops.Message.Body).Text;
        Assert.Contains("Body:\nbody of disk full\n", text, StringComparison.Ordinal);
        Assert.Contains("Body:\nbody of cpu hot\n", text, StringComparison.Ordinal);
        var dev = Assert.Single(_kit.Sender.Sent, d => d.Recipient == "dev@example.com");
        Assert.Contains("Body:\nbody of cpu hot\n", Assert.IsType<MimeKit.TextPart>(dev.Message.Body).Text, StringComparison.Ordinal);
        Assert.Empty(_kit.Store.LoadPending());
    }

    [Fact]
    public async Task UnparsableBytesStillMakeADigest()
    {
        await _kit.StartAsync();
        await _kit.AcceptAsync(await _kit.StoreRawAsync(new byte[] { 0x00, 0xff, 0x0d, 0x0a }));
        await _kit.StopAsync();
        Assert.Single(_kit.Sender.Sent);
        Assert.Empty(_kit.Store.LoadPending());
    }
}
