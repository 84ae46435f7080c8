using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Failmail.Maildir;
using Failmail.Maildir.Log;
using Microsoft.Extensions.Logging.Abstractions;

namespace Failmail.Bench;

// Writes a store of N committed messages straight to the files (no fsync), then times
// what a restart costs: the constructor's recovery scan and LoadPending.
internal static class LoadBench
{
    // Where a scan's time goes: listing, reading and parsing, each alone.
    private static void Breakdown(MaildirLayout layout)
    {
        var watch = Stopwatch.StartNew();
        var ids = Directory.GetFiles(layout.Meta);
        _ = Directory.GetFiles(layout.Cur);
        var listed = watch.Elapsed;
        watch.Restart();
        var jsons = ids.Select(File.ReadAllBytes).ToList();
        var read = watch.Elapsed;
        watch.Restart();
        var records = jsons.Select(j => JsonSerializer.Deserialize(j, MetaJsonContext.Default.MetaRecord)).ToList();
        var parsed = watch.Elapsed;
        Console.WriteLine($"breakdown: list .meta+cur {listed.TotalMilliseconds:F0} ms, read {read.TotalMilliseconds:F0} ms, " +
            $"parse {parsed.TotalMilliseconds:F0} ms ({records.Count} records)");
    }

    public static void Run(int n, string parent)
    {
        var dir = Path.Combine(parent, "failmail-load-" + Guid.NewGuid().ToString("N"));
        try
        {
            var layout = new MaildirLayout(dir);
            layout.Create();
            var body = new byte[1024];
            var start = DateTimeOffset.UtcNow;
            for (var i = 0; i < n; i++)
            {
                var id = string.Create(CultureInfo.InvariantCulture, $"{start.ToUnixTimeSeconds()}.1_{i}R0.bench:2,S");
                var envelope = new Envelope("app@example.com", ["ops@example.com"], start.AddMilliseconds(i), "127.0.0.1");
                File.WriteAllBytes(layout.CurFile(id), body);
                File.WriteAllBytes(layout.MetaFile(id),
                    JsonSerializer.SerializeToUtf8Bytes(MetaRecord.FromEnvelope(envelope, body.Length), MetaJsonContext.Default.MetaRecord));
            }
            Console.WriteLine($"wrote {n} messages into {dir}");

            Breakdown(layout);
            for (var round = 1; round <= 2; round++)
            {
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                using var store = new MaildirMessageStore(dir, NullLoggerFactory.Instance, TimeProvider.System);
                var opened = watch.Elapsed;
                watch.Restart();
                var pending = store.LoadPending();
                var loaded = watch.Elapsed;
                cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
                Console.WriteLine($"round {round}: open (recovery scan) {opened.TotalMilliseconds:F0} ms, " +
                    $"LoadPending {pending.Count} messages {loaded.TotalMilliseconds:F0} ms " +
                    $"({loaded.TotalMilliseconds * 1000 / n:F1} us/message), CPU for both {cpu.TotalMilliseconds:F0} ms, managed heap {GC.GetTotalMemory(false) / 1048576} MiB");
            }
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
