using System.Collections.Concurrent;
using System.Text;
using Failmail.Batching;
using Failmail.Maildir;
using Failmail.Relay;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Failmail.Tests.Batching;

public sealed class BatcherServiceTests : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(5);
    private static readonly DateTimeOffset T0 = new(2014, 7, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(T0);
    private readonly MemoryMessageStore _store = new();
    private readonly RecordingSender _sender = new();
    private readonly CancellationTokenSource _stop = new();
    private BatcherService? _service;
    private Task? _run;

    private static FailmailOptions Options(string groupExpr = "{{.Header.Get \"Subject\"}}") => new()
    {
        From = "failmail@test.example",
        WaitPeriod = TimeSpan.FromSeconds(30),
        MaxWait = TimeSpan.FromMinutes(5),
        Poll = Poll,
        RetryMax = TimeSpan.FromSeconds(20),
        GroupExpr = groupExpr,
    };

    private async Task<BatcherService> StartAsync(FailmailOptions? options = null, bool pollStore = false)
    {
        _service = new BatcherService(options ?? Options(), _store, _sender, NullLoggerFactory.Instance, _time, pollStore);
        _run = _service.RunAsync(_stop.Token);
        await _service.WaitIdleAsync().WaitAsync(Timeout);
        return _service;
    }

    private async Task<ReceivedMessage> StoreAsync(string subject, DateTimeOffset? received = null, string extraHeaders = "", params string[] to)
    {
        var draft = _store.CreateDraft();
        await using (draft.ConfigureAwait(false))
        {
            draft.Write(Encoding.UTF8.GetBytes($"Subject: {subject}\r\n{extraHeaders}\r\nbody of {subject}\r\n"));
            var envelope = new Envelope("app@example.com", to.Length == 0 ? new[] { "ops@example.com" } : to, received ?? _time.GetUtcNow(), "127.0.0.1");
            return await draft.CommitAsync(envelope, CancellationToken.None).AsTask().WaitAsync(Timeout);
        }
    }

    private async Task AcceptAsync(ReceivedMessage message)
    {
        Assert.NotNull(_service);
        await _service.AcceptAsync(message, CancellationToken.None).AsTask().WaitAsync(Timeout);
        await _service.WaitIdleAsync().WaitAsync(Timeout);
    }

    // One poll interval: advance only while the service is parked on its timer (pitfall 9),
    // then wait until that tick has been processed.
    private async Task TickAsync(int count = 1)
    {
        Assert.NotNull(_service);
        for (var i = 0; i < count; i++)
        {
            var ticks = _service.TicksProcessed;
            await _service.WaitIdleAsync(ticks).WaitAsync(Timeout);
            _time.Advance(Poll);
            await _service.WaitIdleAsync(ticks + 1).WaitAsync(Timeout);
        }
    }

    private async Task StopAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null)
        {
            await _run.WaitAsync(Timeout);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    [Fact]
    public async Task DigestGoesOutAfterTheQuietPeriodAndTheMessageLeavesTheStore()
    {
        var service = await StartAsync();
        Assert.True(service.HasCapacity);
        await AcceptAsync(await StoreAsync("disk full"));
        Assert.Equal(1, service.Stats.ActiveBatches);
        Assert.Equal(1, service.Stats.PendingMessages);
        await TickAsync(5);
        Assert.Empty(_sender.Sent);
        await TickAsync();
        var digest = Assert.Single(_sender.Sent);
        Assert.Equal("ops@example.com", digest.Recipient);
        Assert.Equal("[failmail] 1 instance: disk full", digest.Message.Subject);
        Assert.Contains("body of disk full", digest.Message.TextBody, StringComparison.Ordinal);
        Assert.Empty(_store.LoadPending());
        Assert.Equal(1, service.Stats.DigestsSent);
        Assert.Equal(0, service.Stats.ActiveBatches);
        Assert.Equal(0, service.Stats.PendingMessages);
    }

    [Fact]
    public async Task MessageForTwoRecipientsLeavesTheStoreOnlyWhenBothDigestsAreOut()
    {
        _sender.FailFor("b@example.com", times: 1);
        await StartAsync();
        await AcceptAsync(await StoreAsync("disk full", to: new[] { "a@example.com", "b@example.com" }));
        await TickAsync(6);
        Assert.Equal(new[] { "a@example.com" }, _sender.Sent.Select(d => d.Recipient));
        Assert.Single(_store.LoadPending());
        await TickAsync();
        Assert.Equal(new[] { "a@example.com", "b@example.com" }, _sender.Sent.Select(d => d.Recipient));
        Assert.Empty(_store.LoadPending());
    }

    [Fact]
    public async Task FailedSendKeepsTheMessagesAndBacksOff()
    {
        _sender.FailFor("ops@example.com", times: 3);
        var service = await StartAsync();
        await AcceptAsync(await StoreAsync("disk full"));
        await TickAsync(6); // due: attempt 1 fails, next in 5 s
        Assert.Equal(1, _sender.Attempts);
        await TickAsync(); // attempt 2 fails, next in 10 s
        Assert.Equal(2, _sender.Attempts);
        await TickAsync();
        Assert.Equal(2, _sender.Attempts); // backing off, no storm
        await TickAsync(); // attempt 3 fails, next in 20 s (the cap)
        Assert.Equal(3, _sender.Attempts);
        Assert.Single(_store.LoadPending());
        Assert.Equal(1, service.Stats.ActiveBatches);
        await TickAsync(3);
        Assert.Equal(3, _sender.Attempts);
        await TickAsync();
        Assert.Equal(4, _sender.Attempts);
        Assert.Single(_sender.Sent);
        Assert.Empty(_store.LoadPending());
    }

    [Fact]
    public async Task RestartRebatchesStoredMessagesWithTheirOriginalReceiveTimes()
    {
        await StoreAsync("old alert", T0 - TimeSpan.FromMinutes(10));
        await StoreAsync("old alert", T0 - TimeSpan.FromMinutes(9));
        await StoreAsync("recent alert", T0 - TimeSpan.FromSeconds(1));
        var service = await StartAsync();
        Assert.Equal(3, service.Stats.PendingMessages);
        Assert.Equal(TimeSpan.FromMinutes(10), service.Stats.OldestPendingAge);
        await TickAsync(); // first + max-wait passed long ago
        var digest = Assert.Single(_sender.Sent);
        Assert.Equal("[failmail] 3 instances of 2 messages", digest.Message.Subject);
        var oldest = GoFormat.Rfc1123Z(TimeZoneInfo.ConvertTime(T0 - TimeSpan.FromMinutes(10), TimeZoneInfo.Local));
        Assert.Contains($"Oldest message: {oldest}", digest.Message.TextBody, StringComparison.Ordinal);
        Assert.Empty(_store.LoadPending());
    }

    [Fact]
    public async Task ShutdownFlushesEveryPendingBatch()
    {
        await StartAsync();
        await AcceptAsync(await StoreAsync("a", to: "x@example.com"));
        await AcceptAsync(await StoreAsync("b", to: "y@example.com"));
        await TickAsync();
        Assert.Empty(_sender.Sent);
        await StopAsync();
        Assert.Equal(2, _sender.Sent.Count);
        Assert.Empty(_store.LoadPending());
    }

    [Fact]
    public async Task ShutdownFlushFailureLeavesTheMessagesInTheStore()
    {
        _sender.FailFor("x@example.com", times: 100);
        await StartAsync();
        await AcceptAsync(await StoreAsync("a", to: "x@example.com"));
        await StopAsync();
        Assert.Empty(_sender.Sent);
        Assert.Single(_store.LoadPending());
    }

    [Fact]
    public async Task DigestComingBackIsPassedOnUnchangedPerRecipient()
    {
        await StartAsync();
        var m = await StoreAsync("[failmail] 2 instances: x", extraHeaders: "X-Failmail-Digest: 1\r\n", to: new[] { "a@example.com", "b@example.com" });
        await AcceptAsync(m);
        await TickAsync();
        Assert.Equal(2, _sender.Sent.Count);
        Assert.All(_sender.Sent, d => Assert.Equal("[failmail] 2 instances: x", d.Message.Subject));
        Assert.Equal(new[] { "a@example.com", "b@example.com" }, _sender.Sent.Select(d => d.Recipient).Order(StringComparer.Ordinal));
        Assert.Empty(_store.LoadPending());
    }

    [Fact]
    public async Task SenderOnlyModePollsTheStoreForNewMessages()
    {
        await StartAsync(pollStore: true);
        await StoreAsync("disk full");
        await TickAsync();
        Assert.Equal(1, _service!.Stats.PendingMessages);
        await TickAsync(6);
        Assert.Single(_sender.Sent);
        Assert.Empty(_store.LoadPending());
        await TickAsync(2);
        Assert.Single(_sender.Sent); // no duplicate from a later poll
    }

    [Fact]
    public async Task GroupExpressionGroupsAndBatchExpressionSplits()
    {
        var options = Options(groupExpr: "{{replace \"[0-9]+\" (.Header.Get \"Subject\") \"N\"}}") with { BatchExpr = "{{.Header.Get \"X-Team\"}}" };
        await StartAsync(options);
        await AcceptAsync(await StoreAsync("disk 91% full", extraHeaders: "X-Team: a\r\n"));
        await AcceptAsync(await StoreAsync("disk 95% full", extraHeaders: "X-Team: a\r\n"));
        await AcceptAsync(await StoreAsync("disk 99% full", extraHeaders: "X-Team: b\r\n"));
        await TickAsync(6);
        var digests = _sender.Sent.OrderBy(d => d.BatchKey, StringComparer.Ordinal).ToList();
        Assert.Equal(2, digests.Count);
        Assert.Equal("[failmail] 2 instances: disk 95% full", digests[0].Message.Subject);
        Assert.Equal("b", digests[1].BatchKey);
    }

    [Fact]
    public async Task ExpressionFailingForOneMessageUsesAnEmptyKey()
    {
        await StartAsync(Options(groupExpr: "{{ subject | match: headers[\"x-pattern\"] }}"));
        await AcceptAsync(await StoreAsync("disk full", extraHeaders: "X-Pattern: [\r\n"));
        await AcceptAsync(await StoreAsync("cpu hot", extraHeaders: "X-Pattern: ^cpu\r\n"));
        await StopAsync();
        var digest = Assert.Single(_sender.Sent);
        Assert.Equal("[failmail] 2 instances of 2 messages", digest.Message.Subject);
        Assert.Empty(_store.LoadPending());
    }

    [Fact]
    public async Task BodyExpressionStillSeesTheBody()
    {
        await StartAsync(Options(groupExpr: "{{ body | match: \"of [a-z]+\" }}"));
        await AcceptAsync(await StoreAsync("disk one"));
        await AcceptAsync(await StoreAsync("disk two"));
        await AcceptAsync(await StoreAsync("cpu one"));
        await StopAsync();
        var digest = Assert.Single(_sender.Sent);
        Assert.Equal("[failmail] 3 instances of 2 messages", digest.Message.Subject);
        var text = Assert.IsType<MimeKit.TextPart>(digest.Message.Body).Text;
        Assert.Contains("2 instances", text, StringComparison.Ordinal);
        Assert.Contains("Subject: \"disk two\"", text, StringComparison.Ordinal);
        Assert.Contains("Subject: \"cpu one\"", text, StringComparison.Ordinal);
    }

    // The first message's header block is plain (header-only path), the second's starts with
    // an mbox From line (full MimeKit parse): the same Subject, so the same group.
    [Fact]
    public async Task HeaderOnlyAndFullParseMessagesShareTheirGroup()
    {
        await StartAsync(Options() with { BatchExpr = "{{ headers[\"X-Team\"] | upcase }}" });
        await AcceptAsync(await StoreAsync("=?utf-8?q?caf=C3=A9?=\r\n folded", extraHeaders: "X-Team: a\r\n"));
        var draft = _store.CreateDraft();
        ReceivedMessage m;
        await using (draft.ConfigureAwait(false))
        {
            draft.Write("From app@example.com Tue Jul  1 12:00:00 2014\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n folded\r\nX-Team: a\r\n\r\nbody\r\n"u8);
            m = await draft.CommitAsync(new Envelope("", new[] { "ops@example.com" }, _time.GetUtcNow(), "127.0.0.1"), CancellationToken.None).AsTask().WaitAsync(Timeout);
        }
        await AcceptAsync(m);
        await StopAsync();
        var digest = Assert.Single(_sender.Sent);
        Assert.Equal("A", digest.BatchKey);
        Assert.Equal("[failmail] 2 instances: café folded", digest.Message.Subject);
    }

    // Each message is read once: the digest shows the newest message of each group from the
    // bytes the batcher kept, not by reading it back.
    [Fact]
    public async Task DigestBodiesComeFromTheBytesReadForBatching()
    {
        var store = new CountingStore(_store);
        _service = new BatcherService(Options(), store, _sender, NullLoggerFactory.Instance, _time);
        _run = _service.RunAsync(_stop.Token);
        await _service.WaitIdleAsync().WaitAsync(Timeout);
        await AcceptAsync(await StoreAsync("disk full"));
        await AcceptAsync(await StoreAsync("disk full"));
        await AcceptAsync(await StoreAsync("cpu hot", to: new[] { "ops@example.com", "dev@example.com" }));
        await TickAsync(7);
        Assert.Equal(2, _sender.Sent.Count);
        Assert.Equal(3, store.Reads);
        var ops = Assert.Single(_sender.Sent, d => d.Recipient == "ops@example.com");
        var text = Assert.IsType<MimeKit.TextPart>(ops.Message.Body).Text;
        Assert.Contains("Body:\nbody of disk full\n", text, StringComparison.Ordinal);
        Assert.Contains("Body:\nbody of cpu hot\n", text, StringComparison.Ordinal);
        var dev = Assert.Single(_sender.Sent, d => d.Recipient == "dev@example.com");
        Assert.Contains("Body:\nbody of cpu hot\n", Assert.IsType<MimeKit.TextPart>(dev.Message.Body).Text, StringComparison.Ordinal);
        Assert.Empty(_store.LoadPending());
    }

    [Fact]
    public void BrokenExpressionIsAStartupError()
    {
        var options = Options(groupExpr: "{{printf \"%s\" .Subject}}");
        var e = Assert.Throws<ExpressionException>(() => new BatcherService(options, _store, _sender, NullLoggerFactory.Instance, _time));
        Assert.StartsWith("--group-expr: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonPositivePollStillFlushes()
    {
        var service = await StartAsync(Options() with { Poll = TimeSpan.Zero, WaitPeriod = TimeSpan.FromSeconds(2) });
        await AcceptAsync(await StoreAsync("x"));
        var ticks = service.TicksProcessed;
        _time.Advance(TimeSpan.FromSeconds(1));
        await service.WaitIdleAsync(ticks + 1).WaitAsync(Timeout);
        _time.Advance(TimeSpan.FromSeconds(1));
        await service.WaitIdleAsync(ticks + 2).WaitAsync(Timeout);
        Assert.Single(_sender.Sent);
    }

    [Fact]
    public async Task UnparsableBytesStillMakeADigest()
    {
        await StartAsync();
        var draft = _store.CreateDraft();
        ReceivedMessage m;
        await using (draft.ConfigureAwait(false))
        {
            draft.Write(new byte[] { 0x00, 0xff, 0x0d, 0x0a });
            m = await draft.CommitAsync(new Envelope("", new[] { "ops@example.com" }, _time.GetUtcNow(), "127.0.0.1"), CancellationToken.None).AsTask().WaitAsync(Timeout);
        }
        await AcceptAsync(m);
        await StopAsync();
        Assert.Single(_sender.Sent);
        Assert.Empty(_store.LoadPending());
    }

    private sealed class CountingStore(MemoryMessageStore inner) : IMessageStore
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public IMessageDraft CreateDraft() => inner.CreateDraft();

        public IReadOnlyList<ReceivedMessage> LoadPending() => inner.LoadPending();

        public Stream OpenRead(string id)
        {
            Interlocked.Increment(ref _reads);
            return inner.OpenRead(id);
        }

        public void Remove(IEnumerable<string> ids) => inner.Remove(ids);
    }

    private sealed class RecordingSender : IDigestSender
    {
        private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);
        private readonly ConcurrentQueue<Digest> _sent = new();
        private int _attempts;

        public IReadOnlyList<Digest> Sent => _sent.ToList();

        public int Attempts => Volatile.Read(ref _attempts);

        public void FailFor(string recipient, int times) => _failures[recipient] = times;

        public ValueTask SendAsync(Digest digest, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _attempts);
            if (_failures.TryGetValue(digest.Recipient, out var left) && left > 0)
            {
                _failures[digest.Recipient] = left - 1;
                throw new IOException("disk full");
            }
            _sent.Enqueue(digest);
            return ValueTask.CompletedTask;
        }
    }
}
