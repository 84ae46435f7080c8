namespace Failmail.Timing;

// When a long-running part (the batcher loop, the relay worker, the spool importer) last
// showed progress, for Hosting/PartWatch: Working at each wake-up, Progressed after each unit
// of work (a message, a digest, an attempt, a spool entry), Idle while it waits. Thread-safe:
// the part writes, /healthz and the host's watch read.
internal sealed class BusyClock(TimeProvider time)
{
    // Monotonic time of the last progress while working; 0 while idle.
    private long _since;

    // The monotonic time of the last progress, or null while the part waits.
    public long? Since => Volatile.Read(ref _since) is var since and not 0 ? since : null;

    public void Working() => Volatile.Write(ref _since, time.GetTimestamp());

    public void Idle() => Volatile.Write(ref _since, 0);

    // Moves the clock on only while working: progress reported from a wait means nothing.
    public void Progressed()
    {
        if (Volatile.Read(ref _since) != 0)
        {
            Working();
        }
    }
}
