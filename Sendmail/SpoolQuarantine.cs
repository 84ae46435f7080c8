using System.Runtime.InteropServices;
using System.Text;
using Failmail.Hosting;

namespace Failmail.Sendmail;

// Where refused spool entries go: spool/bad/NAME, with why in bad/NAME.reason. bad/ is not a
// maildir subdirectory, so neither the importer nor a mail reader takes anything from it.
// The entry is moved with rename(2), which neither opens nor follows it (a FIFO stays
// unopened, a symlink moves as the link). The spool's root may be writable by every user
// (like Postfix's maildrop), so bad/ must be a real directory, not a link someone planted,
// and the reason file is created with O_EXCL, which never follows a link either.
internal sealed class SpoolQuarantine
{
    public const string DirectoryName = "bad";

    private readonly string _dir;

    public SpoolQuarantine(string spoolDir)
    {
        _dir = Path.Combine(spoolDir, DirectoryName);
    }

    public string Dir => _dir;

    // False when the entry is gone (another importer took it). Throws IOException when bad/
    // cannot be used; the entry then stays where it is. reasonError: the reason file could not
    // be written (the entry was moved all the same).
    public bool MoveAside(string path, string name, string reason, out string? reasonError)
    {
        reasonError = null;
        Directory.CreateDirectory(_dir);
        var errno = PosixNative.Stat(_dir, -1, out var mode, out _);
        if (errno != 0 || (mode & PosixNative.SIfMt) != PosixNative.SIfDir)
        {
            throw new IOException($"{_dir} is not a directory");
        }
        var target = Path.Combine(_dir, name);
        if (PosixNative.Rename(path, target) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            if (errno == PosixNative.ENoEnt)
            {
                return false;
            }
            throw new IOException($"rename {path} to {target}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        var reasonPath = target + ".reason";
        try
        {
            File.Delete(reasonPath);
            using var file = new FileStream(reasonPath, FileMode.CreateNew, FileAccess.Write);
            file.Write(Encoding.UTF8.GetBytes(reason + "\n"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The entry is aside already; the log line that follows still gives the reason.
            reasonError = e.Message;
        }
        return true;
    }
}
