using System.Globalization;
using System.Text;

namespace Failmail.Hosting;

// --pidfile: `<pid>\n`, naming the process that serves. A pidfile whose pid is not running is
// stale and replaced (failmail refused to start instead, spec §8.4 and §10.9); a running one is
// an error. Across a reload the child takes the file over (TakeOver), and the parent, seeing
// the file no longer names it, leaves it alone on exit.
internal sealed class Pidfile : IDisposable
{
    private readonly string _path;
    private readonly int _pid;
    private bool _released;

    private Pidfile(string path, int pid, int? replacedStalePid)
    {
        _path = path;
        _pid = pid;
        ReplacedStalePid = replacedStalePid;
    }

    public string Path => _path;

    public int Pid => _pid;

    // The pid of a stale file that Create replaced, for the log.
    public int? ReplacedStalePid { get; }

    // Writes the pidfile for pid (default: this process). parentPid is the process that handed
    // us the socket on reload: a file naming it is ours to take over, not a conflict.
    // Throws PidfileException when another live process holds the file.
    public static Pidfile Create(string path, int? pid = null, int? parentPid = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var self = pid ?? Environment.ProcessId;
        var existing = ReadPid(path);
        if (existing is int other && other != self && other != parentPid && PosixNative.ProcessExists(other))
        {
            throw new PidfileException($"pidfile {path} already exists and names running process {other}");
        }
        Write(path, self);
        var stale = existing is int old && old != self && old != parentPid ? old : (int?)null;
        return new Pidfile(path, self, stale);
    }

    // The pid the file names, or null when it is missing or does not hold a number.
    public static int? ReadPid(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        return int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;
    }

    // Removes the file at a clean exit, but only while it still names us: after a reload the
    // child has rewritten it, and deleting the child's pidfile would orphan the server.
    public void Dispose()
    {
        if (_released)
        {
            return;
        }
        _released = true;
        if (ReadPid(_path) == _pid)
        {
            File.Delete(_path);
        }
    }

    // After a reload hand-off: leave the file for the child to rewrite instead of deleting it,
    // so there is no moment without a pidfile. Should the child fail, the file names a dead
    // process and the next start replaces it as stale.
    public void KeepForChild() => _released = true;

    // Written to a temporary file and renamed over, so a reader never sees a half-written pid
    // and the child's rewrite replaces the parent's atomically.
    private static void Write(string path, int pid)
    {
        var temp = $"{path}.{pid}.tmp";
        try
        {
            File.WriteAllText(temp, pid.ToString(CultureInfo.InvariantCulture) + "\n", new UTF8Encoding(false));
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temp);
            }
            catch (IOException)
            {
            }
            throw new PidfileException($"could not write pidfile {path}: {ex.Message}", ex);
        }
    }
}
