namespace Failmail.Maildir;

// Delivers whole messages into a maildir (--fail-dir, --all-dir): write tmp/<name>, fsync,
// rename into new/<name>, fsync the directory. Readers never see a partial file.
internal sealed class MaildirWriter
{
    private readonly string _root;
    private long _counter;

    public MaildirWriter(string root)
    {
        _root = root;
        foreach (var sub in new[] { "tmp", "new", "cur" })
        {
            Directory.CreateDirectory(Path.Combine(root, sub));
        }
    }

    public string Root => _root;

    // Returns the file name in new/. Throws IOException when the maildir cannot be written.
    public string Deliver(ReadOnlySpan<byte> message)
    {
        var name = UniqueName();
        var tmp = Path.Combine(_root, "tmp", name);
        var final = Path.Combine(_root, "new", name);
        using (var file = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            file.Write(message);
            file.Flush(flushToDisk: true);
        }
        File.Move(tmp, final);
        FileSync.Directory(Path.Combine(_root, "new"));
        return name;
    }

    private string UniqueName()
    {
        var seconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var n = Interlocked.Increment(ref _counter);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{seconds}.{Environment.ProcessId}_{n}.{Environment.MachineName}");
    }
}
