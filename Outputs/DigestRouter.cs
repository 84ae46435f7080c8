using Failmail.Batching;
using Failmail.Maildir;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Failmail.Outputs;

// The batcher's way out when a transport map is set: each digest's recipient (after aliases
// and canonical rewriting) is looked up, and every target gets its copy. An output's copy is
// committed to that output's durable queue before SendAsync returns; `smtp` is the relay's own
// SendAsync (queued durably too). Only then may the batcher remove the digest's messages.
// When a later target throws, the batcher retries the whole digest: an output that already
// queued it posts it twice at worst, never zero times.
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
        OutputSummary? summary = null;
        var smtp = false;
        foreach (var target in targets)
        {
            if (target.Kind == OutputKind.Smtp)
            {
                smtp = true;
                continue;
            }
            summary ??= OutputSummary.From(digest, Severity(digest));
            _outputs[target.Id].Enqueue(summary);
        }
        if (smtp)
        {
            await _smtp.SendAsync(digest, cancellationToken).ConfigureAwait(false);
        }
    }

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
