using Failmail.Outputs;
using Failmail.Tests.Maildir;

namespace Failmail.Tests.Outputs;

public class OutputQueueTests
{
    [Fact]
    public void AnAddedEntryIsOnDiskAndLoadsBackInOrder()
    {
        using var dir = new TempDirectory();
        var queue = new OutputQueue(dir.Path);
        var first = queue.Add(OutputTestKit.Summary(groups: 1), OutputTestKit.T0);
        var second = queue.Add(OutputTestKit.Summary(groups: 2), OutputTestKit.T0.AddSeconds(1));
        Assert.Equal(2, Directory.GetFiles(dir.Path, "*.json").Length);
        var again = new OutputQueue(dir.Path);
        Assert.Equal([first.Id, second.Id], again.Snapshot().Select(e => e.Id));
        Assert.Equal(first.Summary, again.Snapshot()[0].Summary with { Groups = first.Summary.Groups });
        Assert.Equal(first.Summary.Groups.Select(g => (g.Key, g.Subject, g.Count, g.First, g.Last)),
            again.Snapshot()[0].Summary.Groups.Select(g => (g.Key, g.Subject, g.Count, g.First, g.Last)));
        again.Remove(first.Id);
        Assert.Single(new OutputQueue(dir.Path).Snapshot());
    }

    [Fact]
    public void AnUncommittedWriteIsDroppedAndACorruptFileSetAside()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.Combine("0001-aa.tmp"), "{half");
        File.WriteAllText(dir.Combine("0002-bb.json"), "{not json");
        File.WriteAllText(dir.Combine("0003-cc.json"), """{"version":1,"id":"other","queued":"2026-01-01T00:00:00Z","summary":null}""");
        var queue = new OutputQueue(dir.Path);
        Assert.Equal(0, queue.Count);
        Assert.Equal(2, queue.Corrupt);
        Assert.False(File.Exists(dir.Combine("0001-aa.tmp")));
        Assert.True(File.Exists(dir.Combine("0002-bb.json.corrupt")));
        // Set aside once, not retried in a loop.
        Assert.Equal(0, queue.Adopt());
    }

    [Fact]
    public void AdoptPicksUpFilesAnotherProcessCommitted()
    {
        using var dir = new TempDirectory();
        var queue = new OutputQueue(dir.Path);
        OutputQueue.WriteFile(dir.Path, OutputTestKit.Entry());
        Assert.Equal(1, queue.Adopt());
        Assert.Equal(0, queue.Adopt());
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void WithoutADirectoryItIsMemoryOnly()
    {
        var queue = new OutputQueue(null);
        var entry = queue.Add(OutputTestKit.Summary(), OutputTestKit.T0);
        Assert.Equal(1, queue.Count);
        queue.Remove(entry.Id);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void PartsOfAMergeThatACrashLeftBehindAreDroppedOnLoad()
    {
        using var dir = new TempDirectory();
        var a = OutputTestKit.Entry();
        var b = OutputTestKit.Entry();
        var other = OutputTestKit.Entry();
        var merged = OutputTestKit.Entry(OutputSummary.Merge([a.Summary, b.Summary])) with { MergedFrom = [a.Id, b.Id] };
        foreach (var entry in new[] { a, b, other, merged })
        {
            OutputQueue.WriteFile(dir.Path, entry);
        }
        var queue = new OutputQueue(dir.Path);
        Assert.Equal([other.Id, merged.Id], queue.Snapshot().Select(e => e.Id).Order(StringComparer.Ordinal));
        Assert.Equal(2, Directory.GetFiles(dir.Path, "*.json").Length);
        Assert.Equal(12, queue.Snapshot().Single(e => e.Id == merged.Id).Summary.TotalMessages);
    }

    [Fact]
    public void ALoneSurrogateInASubjectIsQueuedAndRendered()
    {
        using var dir = new TempDirectory();
        var message = new MimeKit.MimeMessage { Subject = "bad \ud800 subject" };
        var digest = new Failmail.Batching.Digest("k\udc00", "ops@example.com", message, ["m1"])
        {
            Summary = new Failmail.Batching.DueBatch("k", "ops@example.com",
                [new Failmail.Batching.DueGroup("g\ud800", "s\udfff x", 1, OutputTestKit.T0, OutputTestKit.T0, "m1")], ["m1"], OutputTestKit.T0, OutputTestKit.T0),
        };
        var summary = OutputSummary.From(digest);
        Assert.Equal("s\ufffd x", summary.Groups[0].Subject);
        var queue = new OutputQueue(dir.Path);
        var entry = queue.Add(summary, OutputTestKit.T0);
        Assert.Equal(summary.Groups[0].Subject, new OutputQueue(dir.Path).Snapshot()[0].Summary.Groups[0].Subject);
        _ = SlackRenderer.Render(entry);
        _ = DiscordRenderer.Render(entry);
        _ = TeamsRenderer.Render(entry);
        _ = WebhookRenderer.Render(OutputTestKit.Target("webhook+http://127.0.0.1:9/x"), entry, OutputTestKit.T0);
    }

    [Fact]
    public void TheBatchersHostsReachTheQueuedSummaryMostFirst()
    {
        using var dir = new TempDirectory();
        var group = new Failmail.Batching.DueGroup("disk", "disk full", 9, OutputTestKit.T0, OutputTestKit.T0, "m1")
        {
            Hosts = [new Failmail.Batching.HostCount("web-3", 6), new Failmail.Batching.HostCount("web-7", 3)],
        };
        var digest = new Failmail.Batching.Digest("", "ops@example.com", new MimeKit.MimeMessage { Subject = "disk full" }, ["m1"])
        {
            Summary = new Failmail.Batching.DueBatch("", "ops@example.com", [group], ["m1"], OutputTestKit.T0, OutputTestKit.T0),
        };
        var queue = new OutputQueue(dir.Path);
        queue.Add(OutputSummary.From(digest), OutputTestKit.T0);
        var read = new OutputQueue(dir.Path).Snapshot()[0].Summary;
        Assert.Equal(["web-3", "web-7"], read.Groups[0].Hosts);
        Assert.Equal(["web-3", "web-7"], read.Hosts);
    }

    [Fact]
    public void ResyncForgetsWhatAnotherProcessDeliveredAndAdoptsWhatItQueued()
    {
        using var dir = new TempDirectory();
        var mine = new OutputQueue(dir.Path);
        var parent = new OutputQueue(dir.Path, recover: false);
        var delivered = parent.Add(OutputTestKit.Summary(), OutputTestKit.T0);
        var child = new OutputQueue(dir.Path, recover: false);
        parent.Remove(delivered.Id);
        var queued = parent.Add(OutputTestKit.Summary(groups: 1), OutputTestKit.T0);
        Assert.Equal([delivered.Id], child.Snapshot().Select(e => e.Id));
        child.Resync();
        Assert.Equal([queued.Id], child.Snapshot().Select(e => e.Id));
        Assert.Equal(0, mine.Count);
    }
}
