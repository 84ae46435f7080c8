using Failmail.Maildir;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Failmail.Batching;

// --batch-expr and --group-expr for one message. Both are parsed and validated at
// construction (ExpressionException for a broken one); an expression that fails for one
// message gives it an empty key, so one bad message never stops the batcher.
internal sealed class MessageKeyEvaluator
{
    private readonly MessageExpression _batchExpr;
    private readonly MessageExpression _groupExpr;
    private readonly bool _needsBody;
    private readonly List<HeaderSpan> _headerSpans = new();
    private readonly ILogger _logger;
    private readonly bool _normalize;

    public MessageKeyEvaluator(FailmailOptions options, ILogger logger)
        : this(MessageExpression.Create("--batch-expr", options?.BatchExpr ?? ""), MessageExpression.Create("--group-expr", options?.GroupExpr ?? ""), logger,
            options?.GroupNormalize ?? false)
    {
    }

    // normalize: --group-normalize, the group key and the subject the group shows have their
    // variable parts replaced (SubjectNormalizer), and the subject's values kept as an example.
    public MessageKeyEvaluator(MessageExpression batchExpr, MessageExpression groupExpr, ILogger logger, bool normalize = false)
    {
        _normalize = normalize;
        _batchExpr = batchExpr ?? throw new ArgumentNullException(nameof(batchExpr));
        _groupExpr = groupExpr ?? throw new ArgumentNullException(nameof(groupExpr));
        _needsBody = _batchExpr.NeedsBody || _groupExpr.NeedsBody;
        _logger = logger;
    }

    // The common case: keys from headers alone, so the header block is all we parse. False
    // when the message needs MimeKit's full parse: an expression reads the body, the header
    // block is unusual, or the message is a digest coming back.
    public bool TryFromHead(byte[] bytes, ReceivedMessage message, out MessageKeys keys) =>
        TryFromHead(bytes, bytes?.Length ?? 0, message, out keys);

    // The message is the first `length` bytes of `bytes` (a reused read buffer).
    public bool TryFromHead(byte[] bytes, int length, ReceivedMessage message, out MessageKeys keys)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (_needsBody || !MessageHead.TryParse(bytes, length, _headerSpans, out var head) || head.Contains(DigestBuilder.MarkerHeader))
        {
            keys = default;
            return false;
        }
        DotLiquid.Hash? variables = null;
        var batchKey = Evaluate(_batchExpr, head, ref variables, message);
        var groupKey = Evaluate(_groupExpr, head, ref variables, message);
        keys = Keys(batchKey, groupKey, head.Subject());
        return true;
    }

    public MessageKeys FromMime(MimeMessage mime, ReceivedMessage message)
    {
        var variables = MessageVariables.Build(mime, message.Envelope, _needsBody);
        var batchKey = Evaluate(_batchExpr, variables, message.Id);
        var groupKey = Evaluate(_groupExpr, variables, message.Id);
        return Keys(batchKey, groupKey, MessageText.Subject(mime));
    }

    private MessageKeys Keys(string batchKey, string groupKey, string subject)
    {
        if (!_normalize)
        {
            return new MessageKeys(batchKey, groupKey, subject);
        }
        var normalized = SubjectNormalizer.Normalize(subject, out var example);
        // The default group key is the subject: normalised once.
        var key = string.Equals(groupKey, subject, StringComparison.Ordinal) ? normalized : SubjectNormalizer.Normalize(groupKey);
        return new MessageKeys(batchKey, key, normalized) { Example = example };
    }

    // A header lookup needs no variables; any other expression gets them, built once per message.
    private string Evaluate(MessageExpression expression, MessageHead head, ref DotLiquid.Hash? variables, ReceivedMessage message)
    {
        if (expression.HeaderName is { } name)
        {
            try
            {
                return head.Get(name) ?? ""; // already cut (MessageVariables.HeaderValue)
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                BatchLog.ExpressionFailed(_logger, e, expression.Flag, message.Id);
                return "";
            }
        }
        variables ??= MessageVariables.Build(head.Values(), message.Envelope, "");
        return Evaluate(expression, variables, message.Id);
    }

    private string Evaluate(MessageExpression expression, DotLiquid.Hash variables, string id)
    {
        try
        {
            // A key is held per group and shown in logs and templates: an expression that
            // renders the body (or joins headers) is cut like a header value.
            return HeaderText.Cut(expression.Evaluate(variables));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            BatchLog.ExpressionFailed(_logger, e, expression.Flag, id);
            return "";
        }
    }
}
