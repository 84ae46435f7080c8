using Failmail.Outputs;
using Failmail.Tests.Maildir;

namespace Failmail.Tests.Outputs;

public class OutputResenderTests
{
    [Fact]
    public void AFailedPostGoesBackIntoItsOutputsQueueOnce()
    {
        using var dir = new TempDirectory();
        var failDir = dir.Combine("failed");
        var entry = OutputTestKit.Entry();
        OutputFailDir.Write(failDir, new OutputFailure
        {
            Output = "slack-0123456789ab",
            Target = "slack",
            Reason = "HTTP 404",
            Status = 404,
            Failed = OutputTestKit.T0,
            Entry = entry,
        });
        File.WriteAllText(Path.Combine(failDir, "outputs", "junk.json"), "{");
        var (queued, skipped) = OutputResender.Resend(failDir, dir.Combine("queue"), OutputTestKit.T0.AddDays(2));
        Assert.Equal(1, queued);
        Assert.Single(skipped);
        var queue = new OutputQueue(OutputSet.QueueDirectory(dir.Combine("queue"), "slack-0123456789ab"));
        var back = Assert.Single(queue.Snapshot());
        // A fresh --queue-lifetime; the same digest.
        Assert.Equal(OutputTestKit.T0.AddDays(2), back.Queued);
        Assert.Equal(entry.Summary.Groups.Select(g => (g.Key, g.Count)), back.Summary.Groups.Select(g => (g.Key, g.Count)));
        Assert.Equal(0, OutputResender.Resend(failDir, dir.Combine("queue"), OutputTestKit.T0).Queued);
    }
}
