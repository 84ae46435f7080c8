using Failmail.Batching;
using Failmail.Maildir;
using Failmail.Outputs;
using Failmail.Tests.Maildir;
using Microsoft.Extensions.Time.Testing;
using MimeKit;

namespace Failmail.Tests.Outputs;

public class DigestRouterTests
{
    private sealed class CapturingSender : IDigestSender
    {
        public List<Digest> Sent { get; } = [];

        public ValueTask SendAsync(Digest digest, CancellationToken cancellationToken)
        {
            Sent.Add(digest);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class FailingOnceSender : IDigestSender
    {
        public int Calls { get; private set; }

        public ValueTask SendAsync(Digest digest, CancellationToken cancellationToken) =>
            ++Calls == 1 ? throw new IOException("outgoing queue: No space left on device") : ValueTask.CompletedTask;
    }

    private sealed class NeverChannel : IOutputChannel
    {
        public Task<OutputResult> DeliverAsync(OutputEntry entry, CancellationToken cancellationToken) => Task.FromResult(OutputResult.Sent());

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static Digest Digest(string recipient, IMessageStore? store = null, params string[] severities)
    {
        var ids = new List<string>();
        var groups = new List<DueGroup>();
        for (var i = 0; i < Math.Max(1, severities.Length); i++)
        {
            var id = "m" + i;
            if (store is not null)
            {
                var draft = store.CreateDraft();
                draft.Write(System.Text.Encoding.ASCII.GetBytes($"Subject: s{i}\r\nX-Failmail-Severity: {severities[i]}\r\n\r\nbody\r\n"));
                id = draft.CommitAsync(new Envelope("a@b", [recipient], OutputTestKit.T0, ""), CancellationToken.None).AsTask().GetAwaiter().GetResult().Id;
            }
            ids.Add(id);
            groups.Add(new DueGroup("s" + i, "s" + i, 1, OutputTestKit.T0, OutputTestKit.T0, id));
        }
        var message = new MimeMessage { Subject = "[failmail] s0" };
        return new Digest("", recipient, message, ids) { Summary = new DueBatch("", recipient, groups, ids, OutputTestKit.T0, OutputTestKit.T0) };
    }

    private static (DigestRouter Router, CapturingSender Smtp, OutputSet Set) Create(string map, IMessageStore? store = null)
    {
        Assert.True(TransportMap.TryParse(map, "map", _ => null, out var parsed, out var problems), string.Join("; ", problems));
        var smtp = new CapturingSender();
        var set = OutputSet.Create(OutputTestKit.Settings("/nonexistent", parsed), smtp, store, new ListLoggerFactory(), new FakeTimeProvider(OutputTestKit.T0),
            channelFor: _ => new NeverChannel());
        return (set.Router, smtp, set);
    }

    [Fact]
    public async Task EachTargetGetsItsCopyAndSmtpOnlyWhereTheMapSaysSo()
    {
        var (router, smtp, set) = Create("""
            page@example.com  pagerduty:K, slack+http://127.0.0.1:9/x, smtp
            @example.com      slack+http://127.0.0.1:9/x
            """);
        await using var _ = set;
        await router.SendAsync(Digest("page@example.com"), CancellationToken.None);
        await router.SendAsync(Digest("dev@example.com"), CancellationToken.None);
        await router.SendAsync(Digest("root@other.org"), CancellationToken.None);
        Assert.Equal(["page@example.com", "root@other.org"], smtp.Sent.Select(d => d.Recipient));
        var pd = set.Workers.Single(w => w.Target.Kind == OutputKind.PagerDuty);
        var slack = set.Workers.Single(w => w.Target.Kind == OutputKind.Slack);
        Assert.Equal(["page@example.com"], pd.Queue.Snapshot().Select(e => e.Summary.Recipient));
        Assert.Equal(["page@example.com", "dev@example.com"], slack.Queue.Snapshot().Select(e => e.Summary.Recipient));
    }

    [Fact]
    public async Task SeverityIsTheMostSevereHeaderOfTheDigestsMessages()
    {
        using var dir = new TempDirectory();
        var store = new MemoryMessageStore();
        var (router, _, set) = Create("* pagerduty:K", store);
        await using var __ = set;
        await router.SendAsync(Digest("a@x.org", store, "warning", "Critical", "bogus"), CancellationToken.None);
        await router.SendAsync(Digest("b@x.org", store, "bogus"), CancellationToken.None);
        var entries = set.Workers[0].Queue.Snapshot();
        Assert.Equal("critical", entries[0].Summary.Severity);
        Assert.Equal("", entries[1].Summary.Severity);
    }

    [Fact]
    public async Task ARetryAfterTheRelayFailedDoesNotQueueTheOutputsCopyAgain()
    {
        Assert.True(TransportMap.TryParse("* slack+http://127.0.0.1:9/x, smtp", "map", _ => null, out var map, out _));
        var smtp = new FailingOnceSender();
        await using var set = OutputSet.Create(OutputTestKit.Settings("/nonexistent", map), smtp, null, new ListLoggerFactory(),
            new FakeTimeProvider(OutputTestKit.T0), channelFor: _ => new NeverChannel());
        var digest = Digest("ops@example.com");
        await Assert.ThrowsAsync<IOException>(() => set.Router.SendAsync(digest, CancellationToken.None).AsTask());
        Assert.Equal(1, set.Workers[0].Queue.Count);
        Assert.Equal(1, set.Router.PartialCount);
        // The batcher hands the same digest over again: the relay gets it, Slack not twice.
        await set.Router.SendAsync(digest, CancellationToken.None);
        Assert.Equal(2, smtp.Calls);
        Assert.Equal(1, set.Workers[0].Queue.Count);
        Assert.Equal(0, set.Router.PartialCount);
    }
}
