using Failmail.Hosting;

namespace Failmail.Tests.Hosting;

// What the incoming store reports: messages still held and the oldest one's receive time.
internal readonly record struct StoreStats(long PendingMessages, DateTimeOffset? OldestPendingReceived)
{
    public static StoreStats Empty => new(0, null);
}
