using Failmail.Maildir;
using Failmail.Maildir.Log;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Failmail.Tests.Maildir.StoreTestKit;

namespace Failmail.Tests.Maildir.Log;

// What the log store tests share: opening a store at T0 and listing the log's files.
internal static class LogStoreKit
{
    public static LogMessageStore Open(string root, long segmentLimit = LogWriter.DefaultSegmentLimit, bool recover = true) =>
        new(root, NullLoggerFactory.Instance, new FakeTimeProvider(T0), recover, segmentLimit);

    public static string[] LogFiles(TempDirectory dir, string pattern) =>
        [.. Directory.GetFiles(dir.Combine("log"), pattern).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];
}
