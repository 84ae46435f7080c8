using MimeKit;

namespace Failmail.Batching;

// One digest for one recipient, ready to relay, and the stored messages it folds together.
// The envelope is --from → Recipient; the header From/To are already set on Message.
internal sealed record Digest(string BatchKey, string Recipient, MimeMessage Message, IReadOnlyList<string> MessageIds);
