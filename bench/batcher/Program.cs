using System.Diagnostics;
using System.Globalization;
using Failmail.Batching;

// 1,000,000 messages spread over N batches (N = 1k, 10k, 100k), each message one Batcher.Add,
// with a Batcher.Tick every 1,000 messages. Time is one tick per message; the quiet period and
// max wait are long enough that most batches stay open, so the open-batch count really is N.
// The point: ns/message stays flat as N grows (dictionary lookup + list append; the timer wheel
// is touched once per batch, not per message).
const int Messages = 1_000_000;
var recipients = new[] { "ops@example.com" };
var start = DateTimeOffset.UnixEpoch;

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
    int maxOpen = 0, digests = 0, gen2 = 0;
    for (var run = 0; run < 3; run++)
    {
        GC.Collect();
        var batcher = new Batcher(waitPeriod: 300_000, maxWait: 600_000);
        digests = 0;
        maxOpen = 0;
        var gcBefore = GC.CollectionCount(2);
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
            gen2 = GC.CollectionCount(2) - gcBefore;
        }
    }
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{batches,7} batches: {best,7:F1} ns/message (Add + Tick; Tick share {bestTick:F1}), up to {maxOpen} open batches, {digests} digests, {gen2} gen2 GCs"));
}
