using Failmail.Batching;
using Failmail.Maildir;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Failmail.Outputs;

// The batcher's way out when a transport map is set: each digest's recipient (after aliases
// and canonical rewriting) is looked up, and every target gets its copy. An output's copy is
// committed to that output's durable queue before SendAsync returns; `smtp` is the relay's own
// SendAsync (queued durably too). Only then may the batcher remove the digest's messages.
// When a target throws (the relay's queue or an output's cannot be written), the batcher
// retries the whole digest later: the outputs that had already queued it are remembered
// (bounded, in memory), so a retry queues it only where it is still missing.
internal sealed class DigestRouter : IDigestSender
{
    public const string SeverityHeader = "X-Failmail-Severity";

    // Headers read per digest to find its severity: the newest message of the largest groups.
    private const int SeverityProbe = 20;

    private readonly TransportMap _map;
    private readonly IDigestSender _smtp;
    private readonly IReadOnlyDictionary<string, OutputWorker> _outputs;
    private readonly IMessageStore? _incoming;
    private readonly ILogger _logger;

    // Digests whose hand-off failed part-way: which outputs already hold them. Bounded; a
    // digest forgotten (or a restart) at worst posts one output's copy twice.
    private const int MaxPartial = 1024;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, HashSet<string>> _partial = new(StringComparer.Ordinal);

    public DigestRouter(TransportMap map, IDigestSender smtp, IReadOnlyDictionary<string, OutputWorker> outputs, IMessageStore? incoming, ILogger logger)
    {
        _map = map;
        _smtp = smtp;
        _outputs = outputs;
        _incoming = incoming;
        _logger = logger;
    }

    public async ValueTask SendAsync(Digest digest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(digest);
        var targets = _map.Lookup(digest.Recipient);
        var key = PartialKey(digest);
        HashSet<string>? done;
        lock (_lock)
        {
            _ = _partial.Remove(key, out done);
        }
        OutputSummary? summary = null;
        var smtp = false;
        try
        {
            foreach (var target in targets)
            {
                if (target.Kind == OutputKind.Smtp)
                {
                    smtp = true;
                    continue;
                }
                if (done?.Contains(target.Id) == true)
                {
                    continue;
                }
                summary ??= OutputSummary.From(digest, Severity(digest));
                _outputs[target.Id].Enqueue(summary);
                (done ??= new(StringComparer.Ordinal)).Add(target.Id);
            }
            if (smtp)
            {
                await _smtp.SendAsync(digest, cancellationToken).ConfigureAwait(false);
            }
        }
        catch when (done is { Count: > 0 })
        {
            lock (_lock)
            {
                if (_partial.Count >= MaxPartial)
                {
                    _partial.Clear();
                }
                _partial[key] = done;
            }
            throw;
        }
    }

    internal int PartialCount
    {
        get { lock (_lock) { return _partial.Count; } }
    }

    // The same digest handed over again: same recipient, batch and messages.
    private static string PartialKey(Digest digest) =>
        $"{digest.Recipient}\n{digest.BatchKey}\n{digest.MessageIds.Count}\n{(digest.MessageIds.Count > 0 ? digest.MessageIds[0] : "")}\n{(digest.MessageIds.Count > 0 ? digest.MessageIds[^1] : "")}";

    // The most severe X-Failmail-Severity among the digest's newest messages, "" when none.
    // Read from the incoming store, which still holds them until SendAsync returns; a message
    // that cannot be read is skipped, never a reason to hold the digest back.
    private string Severity(Digest digest)
    {
        if (_incoming is null || digest.Summary is not { } batch)
        {
            return "";
        }
        var best = "";
        foreach (var group in batch.Groups.Take(SeverityProbe))
        {
            try
            {
                using var stream = _incoming.OpenRead(group.LastMessageId);
                var headers = HeaderList.Load(stream);
                var value = OutputSeverity.Normalize(headers[SeverityHeader]);
                if (OutputSeverity.Rank(value) > OutputSeverity.Rank(best))
                {
                    best = value;
                }
            }
            catch (Exception e) when (e is IOException or FormatException or KeyNotFoundException or ParseException or UnauthorizedAccessException or ArgumentException)
            {
                OutputsLog.SeverityUnreadable(_logger, group.LastMessageId, e.Message);
            }
        }
        return best;
    }
}
