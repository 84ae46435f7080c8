using MimeKit;

namespace Failmail.Batching;

// One digest for one recipient, ready to relay, and the stored messages it folds together.
// The envelope is --from → Recipient; the header From/To are already set on Message.
// Summary is what the batcher folded (groups, counts, first/last seen), for the senders that
// render a digest for something other than mail (chat outputs, history, the digest's JSON part);
// null for a digest the batcher did not build (tests, a resent file).
internal sealed record Digest(string BatchKey, string Recipient, MimeMessage Message, IReadOnlyList<string> MessageIds)
{
    public DueBatch? Summary { get; init; }

    // Set on a --page-threshold notice (no messages of its own, Summary null).
    public StormPage? Page { get; init; }
}
