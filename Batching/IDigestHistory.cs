namespace Failmail.Batching;

// Where a digest's fate is recorded once it is known, for the API's history (issue 15): the
// relay records "queued", "relayed" and "failed", other senders (chat outputs) their own,
// and the batcher records each silenced message as "silenced". A record with an id seen
// before replaces the earlier one (queued, then relayed). Must not throw and must not block
// for long: it runs on the sender's worker.
internal interface IDigestHistory
{
    void Record(DigestRecord record);
}
