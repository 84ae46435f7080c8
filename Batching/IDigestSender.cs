namespace Failmail.Batching;

// The batcher's way out. SendAsync returns once the digest is safely handed off: relayed,
// queued durably for a retry, or written to the fail-dir. Only then may the batcher remove
// the digest's messages from the incoming store. It throws when none of that was possible
// (for example a full disk); the batcher then keeps the messages and tries again later.
internal interface IDigestSender
{
    ValueTask SendAsync(Digest digest, CancellationToken cancellationToken);
}
