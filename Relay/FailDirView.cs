using Failmail.Maildir;
using MimeKit;

namespace Failmail.Relay;

// The fail-dir as the API sees it (issue 15): its messages, newest first, and a resend of one
// of them into the running relay's queue (committed first, then removed from the fail-dir,
// as FailDirResender does for the whole directory).
internal sealed class FailDirView(RelayService relay, TimeProvider time)
{
    public const int MaxListed = 1000;

    private static readonly string[] Subdirectories = ["new", "cur"];

    public IReadOnlyList<FailedMessage> List(int limit)
    {
        var found = new List<(string Path, DateTime Time)>();
        foreach (var sub in Subdirectories)
        {
            var dir = Path.Combine(relay.FailDir, sub);
            if (!Directory.Exists(dir))
            {
                continue;
            }
            foreach (var path in Directory.EnumerateFiles(dir))
            {
                found.Add((path, File.GetLastWriteTimeUtc(path)));
            }
        }
        var result = new List<FailedMessage>();
        foreach (var (path, written) in found.OrderByDescending(f => f.Time).Take(Math.Min(limit, MaxListed)))
        {
            string subject = "", to = "";
            long size = 0;
            try
            {
                using var stream = File.OpenRead(path);
                size = stream.Length;
                var headers = HeaderList.Load(stream);
                subject = headers[HeaderId.Subject]?.Trim() ?? "";
                to = headers[HeaderId.To]?.Trim() ?? "";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                // Listed with what is known: the operator may still resend or inspect it.
            }
            result.Add(new FailedMessage(Path.GetFileName(path), subject, to, new DateTimeOffset(written, TimeSpan.Zero), size));
        }
        return result;
    }

    // False when the fail-dir holds no message with that id (a file name in new/ or cur/).
    // Throws IOException when it cannot be queued or removed, FormatException when its
    // envelope cannot be recovered from its headers.
    public async Task<bool> ResendAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (id.Length == 0 || id.Contains('/', StringComparison.Ordinal) || id is "." or "..")
        {
            return false;
        }
        var path = Subdirectories.Select(sub => Path.Combine(relay.FailDir, sub, id)).FirstOrDefault(File.Exists);
        if (path is null)
        {
            return false;
        }
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        if (!FailDirResender.TryRecoverEnvelope(bytes, relay.DefaultFrom, out var from, out var recipients, out var reason))
        {
            throw new FormatException(reason);
        }
        _ = await relay.EnqueueAsync(bytes, new Envelope(from, recipients, time.GetUtcNow(), ""), cancellationToken).ConfigureAwait(false);
        File.Delete(path);
        FileSync.Directory(Path.GetDirectoryName(path)!); // a path built from the fail-dir above
        return true;
    }
}

internal sealed record FailedMessage(string Id, string Subject, string To, DateTimeOffset Time, long Size);
