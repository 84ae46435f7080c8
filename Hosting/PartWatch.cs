namespace Failmail.Hosting;

// Liveness of the parts that work after the 250 (batcher loop, relay worker, spool importer):
// each must still be running and must not be stuck in one step past its limit. /healthz
// names the first part that is not (503); past twice the limit, or as soon as a part's task
// has ended, the host stops the process with a non-zero exit, so the supervisor restarts it
// rather than a zombie answering 250 for mail that nothing will send. Thread-safe.
internal sealed class PartWatch(TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly List<Part> _parts = [];
    private volatile bool _stopping;

    // task: null for a part without one (a timer-driven importer). busySince: the monotonic
    // time the part started its current step, null while it waits.
    public void Add(string name, Task? task, Func<long?> busySince, TimeSpan stallAfter)
    {
        lock (_lock)
        {
            _parts.Add(new Part(name, task, busySince, stallAfter));
        }
    }

    // A stop or hand-over ends the parts on purpose from here on.
    public void Stopping() => _stopping = true;

    // Null when every part runs and moves, else one line for /healthz.
    public string? Problem() => Check(fatalOnly: false);

    // Null, or why the process must end now.
    public string? Fatal() => Check(fatalOnly: true);

    private string? Check(bool fatalOnly)
    {
        if (_stopping)
        {
            return null;
        }
        Part[] parts;
        lock (_lock)
        {
            parts = [.. _parts];
        }
        var now = time.GetTimestamp();
        foreach (var part in parts)
        {
            if (part.Task is { IsCompleted: true } task)
            {
                var why = task.Exception?.GetBaseException() is { } e ? $"{e.GetType().Name}: {e.Message}" : "it returned";
                return $"{part.Name} is not running ({OneLine(why)})";
            }
            if (part.BusySince() is { } since)
            {
                var busy = time.GetElapsedTime(since, now);
                var limit = fatalOnly ? part.StallAfter * 2 : part.StallAfter;
                if (busy > limit)
                {
                    return $"{part.Name} has made no progress for {(long)busy.TotalSeconds}s (limit {(long)part.StallAfter.TotalSeconds}s)";
                }
            }
        }
        return null;
    }

    private static string OneLine(string text) => text.Length > 300 ? text[..300].ReplaceLineEndings(" ") + "…" : text.ReplaceLineEndings(" ");

    private sealed record Part(string Name, Task? Task, Func<long?> BusySince, TimeSpan StallAfter);
}
