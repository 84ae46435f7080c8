using System.Text;
using System.Text.RegularExpressions;
using Failmail.GoSyntax;

namespace Failmail.Rewriting;

// --rewrite-src/--rewrite-dest with failmail's semantics (spec §6): a recipient the regex
// does not match is kept; one it matches becomes the dest template expanded once per
// non-overlapping match, concatenated (unmatched text is dropped). The list is then
// deduplicated and sorted ordinally. The regex is Go RE2 syntax, compiled and expanded by
// Batching/GoRegex, the same code as the match/replace filters: named groups numbered left
// to right as Go numbers them, ASCII-only \d \w \s, and NonBacktracking for RE2's linear time.
internal sealed class RecipientRewriter
{
    private readonly Regex? _regex;
    private readonly string _source = "";
    private readonly string _dest = "";

    public RecipientRewriter(string source, string dest)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(dest);
        if (source.Length == 0 && dest.Length == 0)
        {
            return;
        }
        if (source.Length == 0 || dest.Length == 0)
        {
            throw new ArgumentException("--rewrite-src and --rewrite-dest must be given together");
        }
        try
        {
            _regex = GoRegex.Get(source);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"invalid --rewrite-src {source}: {e.Message}", nameof(source), e);
        }
        _source = source;
        _dest = dest;
    }

    public static RecipientRewriter None { get; } = new("", "");

    // The one way the daemon builds it, for SMTP (SmtpListener) and the spool (SpoolImporter) alike.
    public static RecipientRewriter From(FailmailOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new RecipientRewriter(options.RewriteSrc, options.RewriteDest);
    }

    public string Rewrite(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (_regex is null)
        {
            return address;
        }
        var result = new StringBuilder();
        var any = false;
        var previousEnd = -1;
        for (var match = _regex.Match(address); match.Success; match = match.NextMatch())
        {
            var end = match.Index + match.Length;
            // Go's FindAll skips an empty match right after the previous match, so ".*"
            // against "a@b" matches once (.NET would also match the empty end).
            var skip = match.Length == 0 && match.Index == previousEnd;
            previousEnd = end;
            if (skip)
            {
                continue;
            }
            any = true;
            GoRegex.Expand(result, _source, match, _dest);
        }
        return any ? result.ToString() : address;
    }

    public IReadOnlyList<string> RewriteAll(IEnumerable<string> recipients)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        if (recipients is IReadOnlyList<string> { Count: 1 } single)
        {
            // The usual alert has one recipient: nothing to deduplicate or sort.
            return [Rewrite(single[0])];
        }
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var recipient in recipients)
        {
            set.Add(Rewrite(recipient));
        }
        return [.. set];
    }
}
