using static Failmail.Tests.Batching.BatcherServiceKit;

namespace Failmail.Tests.Batching;

// Issue 13 through the service with a fake clock: the storm notice leaves at once, through the
// sender, before the digest; --first-wait sends the first digest at its deadline.
public sealed class BatcherServiceStormTests : IAsyncDisposable
{
    private readonly BatcherServiceKit _kit = new();

    public ValueTask DisposeAsync() => _kit.DisposeAsync();

    [Fact]
    public async Task TheStormNoticeLeavesAtOnceAndTheDigestFollows()
    {
        var options = Options() with { PageThreshold = 3, PageWindow = TimeSpan.FromSeconds(60), PageTo = "pager@example.com", Poll = TimeSpan.FromHours(1) };
        var service = await _kit.StartAsync(options);
        for (var i = 0; i < 3; i++)
        {
            await _kit.AcceptAsync(await _kit.StoreAsync($"disk {i} full"));
        }
        Assert.Empty(_kit.Sender.Sent);
        await _kit.AcceptAsync(await _kit.StoreAsync("disk 3 full"));
        var page = Assert.Single(_kit.Sender.Sent);
        Assert.Equal("pager@example.com", page.Recipient);
        Assert.Equal("[failmail] storm: 4 messages in 60 s, digest follows", page.Message.Subject);
        Assert.NotNull(page.Page);
        // More messages: no second notice; the digest still comes at its deadline.
        for (var i = 4; i < 10; i++)
        {
            await _kit.AcceptAsync(await _kit.StoreAsync($"disk {i} full"));
        }
        Assert.Single(_kit.Sender.Sent);
        _kit.Time.Advance(TimeSpan.FromSeconds(30));
        await service.WaitDeadlinesAsync(1).WaitAsync(Patience);
        Assert.Equal(2, _kit.Sender.Sent.Count);
        Assert.Equal(10, _kit.Sender.Sent[1].MessageIds.Count);
        Assert.Empty(_kit.Store.LoadPending());
    }

    [Fact]
    public async Task FirstWaitSendsTheFirstDigestBeforeTheQuietPeriod()
    {
        var options = Options() with { FirstWait = TimeSpan.FromSeconds(1), FollowUpInterval = TimeSpan.FromMinutes(10), Poll = TimeSpan.FromHours(1) };
        var service = await _kit.StartAsync(options);
        await _kit.AcceptAsync(await _kit.StoreAsync("disk full"));
        _kit.Time.Advance(TimeSpan.FromSeconds(1));
        await service.WaitDeadlinesAsync(1).WaitAsync(Patience);
        var first = Assert.Single(_kit.Sender.Sent);
        Assert.False(first.Summary!.FollowUp);
        // The next one waits for the follow-up interval and says so.
        await _kit.AcceptAsync(await _kit.StoreAsync("disk full"));
        _kit.Time.Advance(TimeSpan.FromSeconds(30));
        await service.WaitIdleAsync().WaitAsync(Patience);
        Assert.Single(_kit.Sender.Sent);
        _kit.Time.Advance(TimeSpan.FromSeconds(570));
        await service.WaitDeadlinesAsync(2).WaitAsync(Patience);
        var second = _kit.Sender.Sent[1];
        Assert.True(second.Summary!.FollowUp);
        Assert.Contains("Still happening: 1 more since the last digest", second.Message.TextBody, StringComparison.Ordinal);
    }
}
