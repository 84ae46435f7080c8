using System.Text.Json;
using Failmail.Maildir;

namespace Failmail.Outputs;

// `failmail resend FAIL-DIR`: each FAIL-DIR/outputs/*.json goes back into its output's queue
// (QUEUE-DIR/outputs/OUTPUT-ID/) with a fresh --queue-lifetime, then leaves the fail-dir; a
// running failmail adopts it at its next --poll. Committed first, removed second: a crash in
// between repeats a post at worst.
internal static class OutputResender
{
    public static (int Queued, IReadOnlyList<string> Skipped) Resend(string failDir, string queueDir, DateTimeOffset now)
    {
        var dir = Path.Combine(failDir, OutputFailDir.Folder);
        var skipped = new List<string>();
        if (!Directory.Exists(dir))
        {
            return (0, skipped);
        }
        var queued = 0;
        foreach (var path in Directory.GetFiles(dir, "*.json").Order(StringComparer.Ordinal))
        {
            OutputFailure? failure;
            try
            {
                failure = JsonSerializer.Deserialize(File.ReadAllBytes(path), OutputsJsonContext.Default.OutputFailure);
            }
            catch (JsonException e)
            {
                skipped.Add($"{path}: not a failmail output failure: {e.Message}");
                continue;
            }
            if (failure?.Entry?.Summary is null || failure.Output.Length == 0 || failure.Output.Contains('/', StringComparison.Ordinal) || failure.Output.StartsWith('.'))
            {
                skipped.Add($"{path}: not a failmail output failure");
                continue;
            }
            var entry = failure.Entry with { Id = OutputQueue.NewId(now), Queued = now };
            OutputQueue.WriteFile(OutputSet.QueueDirectory(queueDir, failure.Output), entry);
            File.Delete(path);
            queued++;
        }
        if (queued > 0)
        {
            FileSync.Directory(dir);
        }
        return (queued, skipped);
    }
}
