using System.Globalization;
using System.Text;

namespace Failmail.Batching;

// Lays out the default digest body within its bounds (issue 13), for DigestBuilder and for
// the relay's re-render of a queued digest (DigestShrinker). Pure: strings in, strings out.
//
// The groups come ordered by count. The first --max-digest-groups are shown in full (spec
// §4.7) as long as their heads fit; their bodies share what is left of the byte budget, each
// cut with a marker when they do not all fit. Every group past those is listed on one line,
// while the budget lasts; the rest are summed on one "and N more groups (M messages)" line.
// Within the limits the output is exactly failmail's layout, with no extra line.
//
// Sizes are UTF-8 bytes with CRLF line ends, as DigestTextWriter writes them.
internal static class DigestLayout
{
    // A body is never cut shorter than this (unless it is shorter): a cut to a few bytes says
    // nothing. When even this does not fit, fewer groups are shown in full.
    public const int MinBodyBytes = 256;

    // Room kept for the summing line and the slack of a cut.
    private const int Reserve = 128;

    // One group. FromLine is the "  From ... to ..." line and QuotedSubject the Go-quoted
    // subject; Body is null for a group that is only listed (a digest re-rendered from text).
    // FromLine may carry more indented lines (hosts, examples: issue 13); Note follows the
    // subject when the group is listed on one line (", e.g. 91%/web-17").
    internal sealed record Entry(int Count, string FromLine, string QuotedSubject, string? Body)
    {
        public string Note { get; init; } = "";
    }

    // preamble: the "--- Failmail ---" block, its line ends included. unique: the number of
    // groups the digest is about (entries plus those already summed). moreGroups and
    // moreMessages: groups summed already, before this layout.
    public static void Write(string preamble, IReadOnlyList<Entry> entries, int unique, int moreGroups, long moreMessages,
        int maxGroups, long budgetBytes, Action<string> append)
    {
        ArgumentNullException.ThrowIfNull(preamble);
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(append);
        append(preamble);
        var heads = entries.Select((e, i) => e.Body is null ? null : FullHead(i + 1, unique, e)).ToList();
        var headBytes = heads.Select(h => h is null ? 0L : Bytes(h)).ToList();
        var bodyBytes = entries.Select(e => e.Body is null ? 0L : Bytes(e.Body) + (e.Body.EndsWith('\n') ? 0 : 2)).ToList();

        // Everything fits: failmail's layout, untouched.
        var total = Bytes(preamble) + headBytes.Sum() + bodyBytes.Sum();
        var allFull = entries.All(e => e.Body is not null);
        if (allFull && entries.Count <= maxGroups && moreGroups == 0 && total <= budgetBytes)
        {
            for (var i = 0; i < entries.Count; i++)
            {
                append(heads[i]!);
                append(entries[i].Body!);
                if (!entries[i].Body!.EndsWith('\n'))
                {
                    append("\n");
                }
            }
            return;
        }

        var available = budgetBytes - Bytes(preamble) - Reserve;
        // Full groups: a prefix of those with a body, at most maxGroups, whose heads and
        // shortest bodies fit.
        var full = 0;
        var fixedBytes = 0L;
        while (full < entries.Count && full < maxGroups && entries[full].Body is not null)
        {
            var need = headBytes[full] + Math.Min(bodyBytes[full], MinBodyBytes + CutMarkerBytes);
            if (fixedBytes + need > available)
            {
                break;
            }
            fixedBytes += need;
            full++;
        }
        // The listed groups may take up to half of what is left; the bodies take the rest.
        var listed = 0L;
        for (var i = full; i < entries.Count; i++)
        {
            listed += Bytes(OneLine(i + 1, unique, entries[i]));
        }
        var forBodies = available - headBytes.Take(full).Sum() - Math.Min(listed, (available - fixedBytes) / 2);
        var allowance = BodyAllowance(bodyBytes.Take(full).ToList(), forBodies);

        var used = 0L;
        for (var i = 0; i < full; i++)
        {
            var body = entries[i].Body!;
            if (bodyBytes[i] > allowance)
            {
                body = Cut(body, Math.Max(MinBodyBytes, allowance - CutMarkerBytes));
            }
            append(heads[i]!);
            append(body);
            if (!body.EndsWith('\n'))
            {
                append("\n");
            }
            used += headBytes[i] + Math.Min(bodyBytes[i], Bytes(body) + 2);
        }
        var summedGroups = moreGroups;
        var summedMessages = moreMessages;
        var first = true;
        for (var i = full; i < entries.Count; i++)
        {
            var line = OneLine(i + 1, unique, entries[i]);
            var bytes = Bytes(line) + (first ? 2 : 0);
            if (used + bytes > available)
            {
                summedGroups += entries.Count - i;
                summedMessages += entries.Skip(i).Sum(e => (long)e.Count);
                break;
            }
            if (first)
            {
                append("\n");
                first = false;
            }
            append(line);
            used += bytes;
        }
        if (summedGroups > 0)
        {
            if (first)
            {
                append("\n");
            }
            append(MoreLine(summedGroups, summedMessages));
        }
    }

    public static string MoreLine(int groups, long messages) =>
        string.Create(CultureInfo.InvariantCulture, $"and {groups} more {(groups == 1 ? "group" : "groups")} ({DigestBuilder.Plural(messages, "message")})\n");

    // The full section's lines before the body (spec §4.7).
    public static string FullHead(int number, int unique, Entry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return string.Create(CultureInfo.InvariantCulture,
            $"\n- Message group {number} of {unique}: {DigestBuilder.Plural(entry.Count, "instance")}\n{entry.FromLine}\n\nSubject: {entry.QuotedSubject}\nBody:\n");
    }

    public static string OneLine(int number, int unique, Entry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return string.Create(CultureInfo.InvariantCulture,
            $"- Message group {number} of {unique}: {DigestBuilder.Plural(entry.Count, "instance")}: {entry.QuotedSubject}{entry.Note}\n");
    }

    // The largest per-body allowance with which the bodies fit in room (water filling).
    private static long BodyAllowance(List<long> bodies, long room)
    {
        if (bodies.Count == 0 || bodies.Sum() <= room)
        {
            return long.MaxValue;
        }
        long lo = MinBodyBytes, hi = bodies.Max();
        while (lo < hi)
        {
            var mid = lo + (hi - lo + 1) / 2;
            if (bodies.Sum(b => Math.Min(b, mid)) <= room)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return lo;
    }

    private const int CutMarkerBytes = 64;

    // The first maxBytes (UTF-8, CRLF) of text, never half a character, and the marker.
    public static string Cut(string text, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = 0L;
        var end = 0;
        while (end < text.Length)
        {
            var c = text[end];
            var width = c == '\n' ? 2 : c < 0x80 ? 1 : c < 0x800 ? 2 : char.IsHighSurrogate(c) ? 4 : 3;
            if (bytes + width > maxBytes)
            {
                break;
            }
            bytes += width;
            end += char.IsHighSurrogate(c) && end + 1 < text.Length ? 2 : 1;
        }
        if (end >= text.Length)
        {
            return text;
        }
        var rest = Bytes(text.AsSpan(end));
        return string.Concat(text.AsSpan(0, end), string.Create(CultureInfo.InvariantCulture, $"\n[body cut: {rest} more bytes]\n"));
    }

    // UTF-8 bytes with every \n written as CRLF.
    public static long Bytes(ReadOnlySpan<char> text) => Encoding.UTF8.GetByteCount(text) + text.Count('\n');

    public static long Bytes(string text) => Bytes(text.AsSpan());
}
