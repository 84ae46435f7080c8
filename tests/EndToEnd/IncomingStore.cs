using Failmail.Maildir;
using Failmail.Maildir.Log;
using Microsoft.Extensions.Logging.Abstractions;

namespace Failmail.Tests.EndToEnd;

// What a running failmail's incoming store holds, read from disk the way a --sender
// process reads it (no recovery, so the live process is undisturbed).
internal static class IncomingStore
{
    public static int Pending(string root)
    {
        using var store = LogMessageStore.OpenForAppend(root, NullLoggerFactory.Instance, TimeProvider.System);
        return store.LoadPending().Count;
    }
}
