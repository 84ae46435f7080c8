using Failmail.Batching;
using Microsoft.Extensions.Logging.Abstractions;
using static Failmail.Tests.Batching.BatcherServiceKit;

namespace Failmail.Tests.Batching;

// --batch-expr and --group-expr through the running service: how messages are split into
// batches and grouped, on the header-only path and through the full MimeKit parse.
public sealed class BatcherServiceKeyTests : IAsyncDisposable
{
    private readonly BatcherServiceKit _kit = new();

    public ValueTask DisposeAsync() => _kit.DisposeAsync();

    [Fact]
    public async Task GroupExpressionGroupsAndBatchExpressionSplits()
    {
        var options = Options(groupExpr: "{{replace \"[0-9]+\" (.Header.Get \"Subject\") \"N\"}}") with { BatchExpr = "{{.Header.Get \"X-Team\"}}" };
        await _kit.StartAsync(options);
        await _kit.AcceptAsync(await _kit.StoreAsync("disk 91% full", extraHeaders: "X-Team: a\r\n"));
        await _kit.AcceptAsync(await _kit.StoreAsync("disk 95% full", extraHeaders: "X-Team: a\r\n"));
        await _kit.AcceptAsync(await _kit.StoreAsync("disk 99% full", extraHeaders: "X-Team: b\r\n"));
        await _kit.TickAsync(6);
        var digests = _kit.Sender.Sent.OrderBy(d => d.BatchKey, StringComparer.Ordinal).ToList();
        Assert.Equal(2, digests.Count);
        Assert.Equal("[failmail] 2 instances: disk 95% full", digests[0].Message.Subject);
        Assert.Equal("b", digests[1].BatchKey);
    }

    [Fact]
    public async Task ExpressionFailingForOneMessageUsesAnEmptyKey()
    {
        await _kit.StartAsync(Options(groupExpr: "{{ subject | match: headers[\"x-pattern\"] }}"));
        await _kit.AcceptAsync(await _kit.StoreAsync("disk full", extraHeaders: "X-Pattern: [\r\n"));
        await _kit.AcceptAsync(await _kit.StoreAsync("cpu hot", extraHeaders: "X-Pattern: ^cpu\r\n"));
        await _kit.StopAsync();
        var digest = Assert.Single(_kit.Sender.Sent);
        Assert.Equal("[failmail] 2 instances of 2 messages", digest.Message.Subject);
        Assert.Empty(_kit.Store.LoadPending());
    }

    [Fact]
    public async Task BodyExpressionStillSeesTheBody()
    {
        await _kit.StartAsync(Options(groupExpr: "{{ body | match: \"of [a-z]+\" }}"));
        await _kit.AcceptAsync(await _kit.StoreAsync("disk one"));
        await _kit.AcceptAsync(await _kit.StoreAsync("disk two"));
        await _kit.AcceptAsync(await _kit.StoreAsync("cpu one"));
        await _kit.StopAsync();
        var digest = Assert.Single(_kit.Sender.Sent);
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
        await _kit.StartAsync(Options() with { BatchExpr = "{{ headers[\"X-Team\"] | upcase }}" });
        await _kit.AcceptAsync(await _kit.StoreAsync("=?utf-8?q?caf=C3=A9?=\r\n folded", extraHeaders: "X-Team: a\r\n"));
        var m = await _kit.StoreRawAsync("From app@example.com Tue Jul  1 12:00:00 2014\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n folded\r\nX-Team: a\r\n\r\nbody\r\n"u8.ToArray());
        await _kit.AcceptAsync(m);
        await _kit.StopAsync();
        var digest = Assert.Single(_kit.Sender.Sent);
        Assert.Equal("A", digest.BatchKey);
        Assert.Equal("[failmail] 2 instances: café folded", digest.Message.Subject);
    }

    [Fact]
    public void BrokenExpressionIsAStartupError()
    {
        var options = Options(groupExpr: "{{printf \"%s\" .Subject}}");
        var e = Assert.Throws<ExpressionException>(() => new BatcherService(options, _kit.Store, _kit.Sender, NullLoggerFactory.Instance, _kit.Time));
        Assert.StartsWith("--group-expr: ", e.Message, StringComparison.Ordinal);
    }
}
