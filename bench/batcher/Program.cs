using System.Diagnostics;
using System.Globalization;
using Failmail.Batching;

// 1,000,000 messages spread round-robin over N batches (N = 1k, 10k, 100k): one Batcher.Add per
// message and a Batcher.Tick every 1,000 messages, one time tick per message. Two workloads:
// - "open": deadlines far away, so all N batches stay open: the cost of Add and Tick with N open
//   batches (dictionary lookup + list append; the timer wheel is touched once per batch);
// - "churn": quiet period 300k ticks, max wait 600k: batches close and reopen, so the
//   figure also pays for building the DueBatch results (more, smaller digests as N grows).
// Best of 3 runs. Run: dotnet run -c Release --project bench/batcher
// With "service [messages] [subjects] [runs]": the whole sender half instead (ServiceBench).
// With "headers [messages]": the batcher's header parse, hand-written against MimeKit (HeaderBench).
if (args is ["headers", ..])
{
    HeaderBench.Run(Arg(1, 200_000));
    return;
}
if (args is ["service", ..])
{
    await ServiceBench.RunAsync(Arg(1, 20_000), Arg(2, 1), Arg(3, 5));
    return;
}

const int Messages = 1_000_000;
var recipients = new[] { "ops@example.com" };
var start = DateTimeOffset.UnixEpoch;

foreach (var (name, wait, maxWait) in new[] { ("open", long.MaxValue / 4, long.MaxValue / 4), ("churn", 300_000L, 600_000L) })
{
    foreach (var batches in new[] { 1_000, 10_000, 100_000 })
    {
        var keys = Enumerable.Range(0, batches).Select(i => "batch-" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var groups = Enumerable.Range(0, 20).Select(i => "group " + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var input = new BatchedMessage[Messages];
        for (var i = 0; i < Messages; i++)
        {
            var group = groups[i % groups.Length];
            input[i] = new BatchedMessage(i.ToString(CultureInfo.InvariantCulture), keys[i % batches], group, group, recipients, start.AddTicks(i));
        }

        double best = double.MaxValue, bestTick = 0;
        int maxOpen = 0, digests = 0;
        for (var run = 0; run < 3; run++)
        {
            GC.Collect();
            var batcher = new Batcher(wait, maxWait);
            digests = 0;
            maxOpen = 0;
            var tickTime = TimeSpan.Zero;
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < Messages; i++)
            {
                batcher.Add(input[i], i);
                if (i % 1000 == 999)
                {
                    var t = Stopwatch.GetTimestamp();
                    digests += batcher.Tick(i).Count;
                    tickTime += Stopwatch.GetElapsedTime(t);
                    maxOpen = Math.Max(maxOpen, batcher.ActiveBatches);
                }
            }
            watch.Stop();
            digests += batcher.FlushAll().Count;
            var perMessage = watch.Elapsed.TotalNanoseconds / Messages;
            if (perMessage < best)
            {
                best = perMessage;
                bestTick = tickTime.TotalNanoseconds / Messages;
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-5} {batches,7} batches: {best,7:F1} ns/message (of which Tick {bestTick,5:F1}), up to {maxOpen,6} open batches, {digests,6} digests"));
    }
}

int Arg(int index, int fallback) => args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;
