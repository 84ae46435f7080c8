namespace Failmail.Batching;

// The batcher's settings, parsed and checked once: the timing (--wait-period, --max-wait,
// --poll, --retry-max), the two expressions compiled (a broken one throws ExpressionException
// naming its flag), the --template loaded, and the digest's own settings. The batcher's
// parts take this record, not the whole FailmailOptions.
internal sealed record BatchSettings(
    TimeSpan WaitPeriod,
    TimeSpan MaxWait,
    TimeSpan Poll,
    TimeSpan RetryMax,
    MessageExpression BatchExpr,
    MessageExpression GroupExpr,
    DigestTemplate? Template,
    DigestSettings Digest)
{
    // issue 13, all off by default: --group-normalize, --first-wait, --follow-up-interval, and
    // the pager (--page-threshold, 0: off; --page-window; --page-to).
    public bool GroupNormalize { get; init; }
    public TimeSpan FirstWait { get; init; }
    public TimeSpan FollowUpInterval { get; init; }
    public int PageThreshold { get; init; }
    public TimeSpan PageWindow { get; init; } = TimeSpan.FromMinutes(1);
    public string PageTo { get; init; } = "";

    // --merge-digests (issue 16): a digest from a spoke that carries its JSON part is folded
    // into this batcher's batches by group key instead of passed through.
    public bool MergeDigests { get; init; }

    public static BatchSettings From(FailmailOptions options, DigestLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new BatchSettings(
            options.WaitPeriod,
            options.MaxWait,
            options.Poll,
            options.RetryMax,
            MessageExpression.Create("--batch-expr", options.BatchExpr),
            MessageExpression.Create("--group-expr", options.GroupExpr),
            string.IsNullOrEmpty(options.Template) ? null : DigestTemplate.Load(options.Template),
            DigestSettings.From(options, limits))
        {
            GroupNormalize = options.GroupNormalize,
            FirstWait = options.FirstWait,
            FollowUpInterval = options.FollowUpInterval,
            PageThreshold = options.PageThreshold,
            PageWindow = options.PageWindow,
            PageTo = options.PageTo,
            MergeDigests = options.MergeDigests,
        };
    }
}
