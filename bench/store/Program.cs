using System.Diagnostics;
using System.Globalization;
using Failmail.Bench;
using Failmail.Maildir;
using Failmail.Maildir.Log;
using Microsoft.Extensions.Logging.Abstractions;

// Commits N messages of S bytes from W concurrent writers into each store and prints the
// throughput and how many fsyncs each message cost. Usage: [N] [W] [S] [dir]
// `load N [dir]` instead times opening a store of N messages and LoadPending.
if (args is ["load", var count, ..])
{
    LoadBench.Run(int.Parse(count, CultureInfo.InvariantCulture), args.Length > 2 ? args[2] : Path.GetTempPath());
    return;
}

var n = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
var writers = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
var size = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1024;
var parent = args.Length > 3 ? args[3] : Path.GetTempPath();
var dir = Path.Combine(parent, "failmail-bench-" + Guid.NewGuid().ToString("N"));

var body = new byte[size];
for (var i = 0; i < size; i++)
{
    body[i] = (byte)(i % 78 == 77 ? '\n' : 'a' + i % 26);
}
var envelope = new Envelope("app@example.com", ["ops@example.com"], DateTimeOffset.UtcNow, "127.0.0.1");

Console.WriteLine($"{n} messages of {size} bytes from {writers} concurrent writers; store in {dir}");
try
{
    var memory = new MemoryMessageStore();
    var memoryTime = await RunAsync(memory);
    Report("MemoryMessageStore", memoryTime, null);

    // The incoming store failmail uses: the message log (one fsync per group).
    TimeSpan logTime;
    StoreCounters logCounters;
    using (var log = new LogMessageStore(dir + "log", NullLoggerFactory.Instance, TimeProvider.System))
    {
        logTime = await RunAsync(log);
        logCounters = log.Counters;
        var watch0 = Stopwatch.StartNew();
        var all = log.LoadPending();
        var listed = watch0.Elapsed;
        watch0.Restart();
        log.Remove(all.Select(m => m.Id));
        Report("LogMessageStore", logTime, logCounters);
        Console.WriteLine($"  LoadPending of {all.Count} {listed.TotalMilliseconds:F0} ms, Remove all {watch0.Elapsed.TotalMilliseconds:F0} ms");
    }
    Directory.Delete(dir + "log", recursive: true);

    foreach (var sync in new[] { CommitSync.PerFile, CommitSync.FileSystem })
    {
        StoreCounters counters;
        TimeSpan maildirTime;
        using (var maildir = new MaildirMessageStore(dir + sync, NullLoggerFactory.Instance, TimeProvider.System, sync))
        {
            maildirTime = await RunAsync(maildir);
            counters = maildir.Counters;
        }
        Report($"Maildir {sync}", maildirTime, counters);
        if (sync == CommitSync.FileSystem)
        {
            Directory.Delete(dir + sync, recursive: true);
        }
    }
    Directory.Move(dir + CommitSync.PerFile, dir);

    var watch = Stopwatch.StartNew();
    using var reopened = new MaildirMessageStore(dir, NullLoggerFactory.Instance, TimeProvider.System);
    var opened = watch.Elapsed;
    watch.Restart();
    var pending = reopened.LoadPending();
    var loaded = watch.Elapsed;
    watch.Restart();
    reopened.Remove(pending.Select(m => m.Id));
    var removed = watch.Elapsed;
    Console.WriteLine($"  reopen (recovery scan) {opened.TotalMilliseconds:F0} ms, LoadPending of {pending.Count} " +
        $"{loaded.TotalMilliseconds:F0} ms, Remove all {removed.TotalMilliseconds:F0} ms");
}
finally
{
    if (Directory.Exists(dir))
    {
        Directory.Delete(dir, recursive: true);
    }
}

async Task<TimeSpan> RunAsync(IMessageStore store)
{
    var watch = Stopwatch.StartNew();
    var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
    {
        for (var i = w; i < n; i += writers)
        {
            await using var draft = store.CreateDraft();
            draft.Write(body);
            await draft.CommitAsync(envelope, CancellationToken.None);
        }
    }));
    await Task.WhenAll(tasks);
    return watch.Elapsed;
}

void Report(string name, TimeSpan elapsed, StoreCounters? counters)
{
    var line = $"{name,-20} {n / elapsed.TotalSeconds,10:F0} messages/s ({elapsed.TotalSeconds:F2} s)";
    if (counters is not null)
    {
        var fsyncs = counters.FileSyncs + counters.DirectorySyncs;
        line += $", {(double)fsyncs / n:F3} fsyncs/message ({counters.FileSyncs} file + " +
            $"{counters.DataSyncs} cur/, syncfs or segment + {counters.MetaSyncs} .meta/), {counters.Groups} groups, " +
            $"{(double)counters.Commits / counters.Groups:F1} commits/group";
    }
    else
    {
        line += ", 0 fsyncs/message";
    }
    Console.WriteLine(line);
}
