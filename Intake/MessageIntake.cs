using Failmail.Maildir;
using Failmail.Rewriting;

namespace Failmail.Intake;

// The one way a message enters the incoming store, whatever the door (SMTP, the spool; the
// HTTP API and a hub merge later): the envelope is checked and rewritten (Rewriting's
// AddressRewriter, then failmail's --rewrite-src/--rewrite-dest), the draft is wrapped for
// header rewriting, committed durably, and only then handed to the sink. A sink that throws
// does not undo the commit: the store keeps the message pending for the batcher, so the door
// may still say yes; it only logs the returned error. Thread-safe: every part is.
internal sealed class MessageIntake(IMessageStore store, IMessageSink sink, AddressRewriter? addresses, RecipientRewriter rewriter, TimeProvider time)
{
    public EnvelopeCheck Check { get; } = new(addresses, rewriter);

    // False when the batcher's queue is full: SMTP answers 451, the spool waits a poll.
    public bool HasCapacity => sink.HasCapacity;

    // A draft to stream the message into. Throws IOException when the store cannot be written.
    public IMessageDraft CreateDraft()
    {
        var draft = store.CreateDraft();
        return addresses is null ? draft : addresses.Wrap(draft);
    }

    // The envelope as stored: rewritten, stamped with the receive time. clientName: the
    // EHLO name (the spool's door gives the local host name).
    // Repeated values are shared (EnvelopeInterner): the store keeps each pending envelope.
    public Envelope Envelope(string from, IReadOnlyList<string> recipients, string clientAddress, string clientName = "") => new(
        _interner.Intern(addresses?.RewriteSender(from) ?? from),
        _interner.Intern(rewriter.RewriteAll(addresses?.RewriteRecipients(recipients) ?? recipients)),
        time.GetUtcNow(),
        _interner.Intern(clientAddress))
    {
        ClientName = _interner.Intern(clientName),
    };

    private readonly EnvelopeInterner _interner = new();

    // Commits the draft (throws IOException: nothing was stored) and hands the message on.
    // SinkError is the sink's failure, if any; the message is stored either way.
    public async ValueTask<IntakeResult> CommitAsync(IMessageDraft draft, Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var message = await draft.CommitAsync(envelope, cancellationToken).ConfigureAwait(false);
        try
        {
            await sink.AcceptAsync(message, cancellationToken).ConfigureAwait(false);
            return new IntakeResult(message, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new IntakeResult(message, e);
        }
    }
}
