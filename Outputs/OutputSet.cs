using Failmail.Batching;
using Failmail.Maildir;
using Microsoft.Extensions.Logging;

namespace Failmail.Outputs;

// Every output the transport map names, each with its queue, channel and worker, and the
// router that feeds them. Built once at start-up; FailmailServices runs one task per worker.
internal sealed class OutputSet : IAsyncDisposable
{
    private readonly List<OutputWorker> _workers;
    private readonly List<IOutputChannel> _channels;

    private OutputSet(List<OutputWorker> workers, List<IOutputChannel> channels, DigestRouter router)
    {
        _workers = workers;
        _channels = channels;
        Router = router;
    }

    public DigestRouter Router { get; }

    public IReadOnlyList<OutputWorker> Workers => _workers;

    public IReadOnlyList<OutputStatus> Status => [.. _workers.Select(w => w.Status)];

    public static string QueueDirectory(string queueDir, string outputId) => Path.Combine(queueDir, "outputs", outputId);

    // channelFor: tests' fakes; by default HTTP channels, and IrcOutputChannel for irc/ircs.
    public static OutputSet Create(OutputSettings settings, IDigestSender smtp, IMessageStore? incoming, ILoggerFactory loggerFactory,
        TimeProvider time, bool recover = true, Func<OutputTarget, IOutputChannel?>? channelFor = null, IDigestHistory? history = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var logger = loggerFactory.CreateLogger("Failmail.Outputs");
        foreach (var warning in settings.Warnings)
        {
            OutputsLog.MapWarning(logger, warning);
        }
        var workers = new List<OutputWorker>();
        var pacer = new OutputPacer();
        var channels = new List<IOutputChannel>();
        var host = Environment.MachineName;
        try
        {
            foreach (var target in settings.Map.Outputs)
            {
                var channel = channelFor?.Invoke(target) ?? target.Kind switch
                {
                    OutputKind.Irc => new IrcOutputChannel(target, settings.Timeout, time, loggerFactory.CreateLogger("Failmail.Outputs.Irc")),
                    _ => new HttpOutputChannel(target, settings.Timeout, time, host),
                };
                channels.Add(channel);
                var queue = new OutputQueue(settings.QueueRoot is null ? null : Path.Combine(settings.QueueRoot, target.Id), recover);
                workers.Add(new OutputWorker(target, queue, channel, settings, time, logger) { History = history, Pacer = pacer });
            }
        }
        catch
        {
            foreach (var channel in channels)
            {
                // Nothing was connected yet: disposing completes at once.
                channel.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            throw;
        }
        if (settings.QueueRoot is not null && Directory.Exists(settings.QueueRoot))
        {
            // A target taken out of the map leaves its queue: say so rather than drop it.
            foreach (var dir in Directory.GetDirectories(settings.QueueRoot))
            {
                if (workers.All(w => w.Queue.Directory != dir) && Directory.GetFiles(dir, "*.json") is { Length: > 0 } left)
                {
                    OutputsLog.Orphaned(logger, dir, left.Length);
                }
            }
        }
        var router = new DigestRouter(settings.Map, smtp, workers.ToDictionary(w => w.Target.Id, StringComparer.Ordinal), incoming, logger);
        return new OutputSet(workers, channels, router);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            await channel.DisposeAsync().ConfigureAwait(false);
        }
    }
}
