namespace Failmail.Maildir;

// Delivers whole messages into a maildir (--fail-dir, --all-dir): write tmp/<name>, fsync,
// rename into new/<name>, fsync the directory. Readers never see a partial file.
internal sealed class MaildirWriter
{
    private readonly string _root;
    // Same unique names as the store: a random part per writer, so a restart that reuses
    // the pid within the same second cannot collide with an earlier delivery.
    private readonly MaildirName _names = new();

    public MaildirWriter(string root)
    {
        _root = root;
        foreach (var sub in new[] { "tmp", "new", "cur" })
        {
            var dir = Path.Combine(root, sub);
            try
            {
                Directory.CreateDirectory(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"Cannot create maildir directory {dir}: {e.Message}", e);
            }
        }
    }

    public string Root => _root;

    // Returns the file name in new/. Throws IOException when the maildir cannot be written;
    // nothing is left in tmp/ then.
    public string Deliver(ReadOnlySpan<byte> message)
    {
        var name = _names.Next(DateTimeOffset.UtcNow);
        var tmp = Path.Combine(_root, "tmp", name);
        var final = Path.Combine(_root, "new", name);
        try
        {
            using (var file = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0))
            {
                file.Write(message);
                file.Flush(flushToDisk: true);
            }
            // rename(2): the names are unique, so nothing is overwritten.
            File.Move(tmp, final, overwrite: true);
            FileSync.Directory(Path.Combine(_root, "new"));
            return name;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            GroupCommitter.TryDelete(tmp);
            throw new IOException($"Cannot deliver to maildir {_root}: {e.Message}", e);
        }
    }
}
