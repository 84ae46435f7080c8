using Failmail.Batching;
using Failmail.History;
using Failmail.Silences;
using static Failmail.Tests.Batching.BatcherServiceKit;

namespace Failmail.Tests.Batching;

// Issue 15: a message an active silence matches is stored, counted, archived, recorded in the
// history as silenced, left out of every digest and released from the store.
public sealed class SilenceGateTests : IAsyncDisposable
{
    private readonly BatcherServiceKit _kit = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("failmail-silencegate-").FullName;

    public async ValueTask DisposeAsync()
    {
        await _kit.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private static SilenceDocument Silence(string name, string value, bool regex, TimeSpan length) => new()
    {
        Matchers = [new MatcherDocument { Name = name, Value = value, IsRegex = regex }],
        EndsAt = T0 + length,
        CreatedBy = "test",
        Comment = "noisy",
    };

    [Fact]
    public async Task ASilencedMessageNeverReachesADigestButShowsInHistoryAsSilenced()
    {
        var book = new SilenceBook("", _kit.Time);
        Assert.NotNull(book.Put(Silence("subject", "disk.*", regex: true, TimeSpan.FromHours(2)), out _, out _));
        var history = new DigestHistory("", 100);
        var allDir = new Failmail.Maildir.MaildirWriter(Path.Combine(_dir, "all"));
        var gate = new SilenceGate(book, _kit.Time, history, allDir);
        var service = await _kit.StartAsync(silences: gate);

        await _kit.AcceptAsync(await _kit.StoreAsync("disk full on db1"));
        await _kit.AcceptAsync(await _kit.StoreAsync("load high"));
        await _kit.TickAsync(7);

        var digest = Assert.Single(_kit.Sender.Sent);
        Assert.Equal("[failmail] 1 instance: load high", digest.Message.Subject);
        Assert.Equal(1, gate.Silenced);
        Assert.Equal(1, service.Silenced);
        Assert.Empty(_kit.Store.LoadPending());
        var entry = Assert.Single(history.List(10, null));
        Assert.Equal("silenced", entry.Outcome);
        Assert.Equal("disk full on db1", entry.Subject);
        Assert.Contains("body of disk full on db1", history.Text(entry.Id), StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(Path.Combine(_dir, "all", "new")));
    }

    [Fact]
    public async Task ASilenceExpiresOnTheClockAndTheNextMessageIsBatchedAgain()
    {
        var book = new SilenceBook("", _kit.Time);
        Assert.NotNull(book.Put(Silence("subject", "disk full", regex: false, TimeSpan.FromMinutes(1)), out _, out _));
        var gate = new SilenceGate(book, _kit.Time);
        await _kit.StartAsync(silences: gate);

        await _kit.AcceptAsync(await _kit.StoreAsync("disk full"));
        Assert.Equal(1, gate.Silenced);
        await _kit.TickAsync(12); // one minute of polls: the silence has ended
        await _kit.AcceptAsync(await _kit.StoreAsync("disk full"));
        await _kit.TickAsync(7);

        Assert.Equal(1, gate.Silenced);
        var digest = Assert.Single(_kit.Sender.Sent);
        Assert.Equal("[failmail] 1 instance: disk full", digest.Message.Subject);
    }

    [Fact]
    public async Task HeaderAndRecipientMatchersAreAllNeeded()
    {
        var book = new SilenceBook("", _kit.Time);
        var document = Silence("header:X-Host", "db[0-9]+", regex: true, TimeSpan.FromHours(1));
        document.Matchers!.Add(new MatcherDocument { Name = "to", Value = "ops@example.com" });
        Assert.NotNull(book.Put(document, out _, out _));
        var gate = new SilenceGate(book, _kit.Time);
        await _kit.StartAsync(silences: gate);

        await _kit.AcceptAsync(await _kit.StoreAsync("a", extraHeaders: "X-Host: db12\r\n"));
        await _kit.AcceptAsync(await _kit.StoreAsync("b", extraHeaders: "X-Host: web1\r\n"));
        await _kit.AcceptAsync(await _kit.StoreAsync("c", extraHeaders: "X-Host: db12\r\n", to: "dev@example.com"));
        await _kit.TickAsync(7);

        Assert.Equal(1, gate.Silenced);
        Assert.Equal(2, _kit.Sender.Sent.Count);
    }

    [Fact]
    public void ASpokesDigestIsSilencedGroupByGroupAndTheSilencedInstancesAreCounted()
    {
        var book = new SilenceBook("", _kit.Time);
        Assert.NotNull(book.Put(Silence("subject", "disk.*", regex: true, TimeSpan.FromHours(2)), out _, out _));
        var gate = new SilenceGate(book, _kit.Time);
        var message = new Failmail.Maildir.ReceivedMessage("d1", new Failmail.Maildir.Envelope("failmail@spoke.test", ["ops@example.com"], T0, "127.0.0.1"), 100);
        DigestDocumentGroup[] groups =
        [
            new("disk <num>% full", "disk 91% full", 30, T0, T0, [], 0, []),
            new("load high", "load high", 4, T0, T0, [], 0, []),
        ];
        var kept = gate.Unsilenced(message, groups, "", ["ops@example.com"]);
        Assert.Equal(["load high"], kept.Select(g => g.Key));
        Assert.Equal(30, gate.Silenced);
        // Without an active silence the groups pass as they are.
        _kit.Time.Advance(TimeSpan.FromHours(3));
        Assert.Same(groups, gate.Unsilenced(message, groups, "", ["ops@example.com"]));
    }
}
