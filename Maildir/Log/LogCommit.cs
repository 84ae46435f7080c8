using Microsoft.Win32.SafeHandles;

namespace Failmail.Maildir.Log;

// A received message waiting for the LogWriter: the envelope JSON and the body, either in
// memory or in the draft's spill file. Completed by the writer once the record is synced.
internal sealed class LogCommit(Envelope envelope, byte[] meta, ReadOnlyMemory<byte> body, SafeFileHandle? spill, long bodyLength, uint bodyCrc)
{
    public Envelope Envelope { get; } = envelope;
    public byte[] Meta { get; } = meta;
    // The body when it is in memory; empty when Spill holds it.
    public ReadOnlyMemory<byte> Body { get; } = body;
    public SafeFileHandle? Spill { get; } = spill;
    public long BodyLength { get; } = bodyLength;
    public uint BodyCrc { get; } = bodyCrc;
    public long RecordSize => LogRecord.Size(Meta.Length, BodyLength);

    // Completed by LogGroupRelease on a pool thread, never on the writer's own thread, so the
    // waiting sessions' continuations may run inline there (one hop per group, not per message).
    public TaskCompletionSource<ReceivedMessage> Done { get; } = new();
}
