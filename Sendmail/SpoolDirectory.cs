using System.Runtime.InteropServices;
using Failmail.Hosting;
using Failmail.Maildir;

namespace Failmail.Sendmail;

// The spool's layout and permissions, Postfix's maildrop model without a setgid postdrop:
//   spool/        0711  the daemon's; users may pass through, not list
//   spool/tmp/    3733  setgid + sticky, -wx for others: any user may create a file but not
//   spool/new/    3733  list the directory, and cannot rename or delete another's file
//   spool/bad/    0700  refused entries, the daemon's alone
// A submitted file is 0640: its owner and the directory's group (setgid: the daemon's), so
// the daemon reads it, as root or as its own user, and no other user can. The daemon
// prepares this at start (and takes back directories an earlier setup left to a user); the
// client writes tmp/NAME, fsyncs, renames it into new/ and fsyncs it again.
internal static class SpoolDirectory
{
    public const UnixFileMode RootMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    public const UnixFileMode DropMode = UnixFileMode.SetGroup | UnixFileMode.StickyBit
        | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
    public const UnixFileMode BadMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;

    // Creates the layout or puts it right. Throws IOException naming the path (a link where a
    // directory belongs, or no permission).
    public static void Prepare(string spoolDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(spoolDir);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the spool needs Unix permissions");
        }
        var root = PosixNative.Geteuid() == 0;
        // A public directory (/tmp, 1777) given as the spool is not ours to lock down. The old
        // README's 1733 spool (no read for others) is, and gets 0711.
        if (PosixNative.Stat(spoolDir, -1, out var existing, out _) == 0
            && (existing & PosixNative.SIfMt) == PosixNative.SIfDir && (existing & 0x6) == 0x6)
        {
            throw new IOException($"{spoolDir} is readable and writable by everyone (a shared directory such as /tmp?): give the spool a directory of its own");
        }
        foreach (var (path, mode) in new[]
        {
            (spoolDir, RootMode),
            (Path.Combine(spoolDir, "tmp"), DropMode),
            (Path.Combine(spoolDir, "new"), DropMode),
            (Path.Combine(spoolDir, SpoolQuarantine.DirectoryName), BadMode),
        })
        {
            try
            {
                Directory.CreateDirectory(path);
                var errno = PosixNative.Stat(path, -1, out var type, out _);
                if (errno != 0 || (type & PosixNative.SIfMt) != PosixNative.SIfDir)
                {
                    // Never chmod or chown through a link someone planted.
                    throw new IOException($"{path} is not a directory");
                }
                // A directory the first user created (the old setup) is taken back: its owner
                // could list and delete everyone's mail.
                if (root && PosixNative.Lchown(path, 0, -1) != 0)
                {
                    throw new IOException($"chown {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
                }
                if (File.GetUnixFileMode(path) != mode)
                {
                    File.SetUnixFileMode(path, mode);
                }
            }
            catch (UnauthorizedAccessException e)
            {
                throw new IOException($"{path}: {e.Message}", e);
            }
        }
    }

    // Writes one spooled message durably; returns its path in new/. Throws IOException (or
    // UnauthorizedAccessException) when it could not be stored; nothing is left behind then.
    public static string Deliver(string spoolDir, ReadOnlySpan<byte> message)
    {
        ArgumentException.ThrowIfNullOrEmpty(spoolDir);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the spool needs Unix permissions");
        }
        if (!Directory.Exists(Path.Combine(spoolDir, "new")))
        {
            // No daemon has prepared it yet: do it here if this user may (root, or a spool
            // of one's own); otherwise the create below fails and says why.
            try
            {
                Prepare(spoolDir);
            }
            catch (IOException)
            {
            }
        }
        var name = new MaildirName().Next(DateTimeOffset.UtcNow);
        var tmp = Path.Combine(spoolDir, "tmp", name);
        var final = Path.Combine(spoolDir, "new", name);
        var options = new FileStreamOptions
        {
            Mode = System.IO.FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            UnixCreateMode = FileMode,
            BufferSize = 0,
        };
        try
        {
            using var file = new FileStream(tmp, options);
            // Whatever the umask: the daemon's group must read it (the create mode is masked).
            File.SetUnixFileMode(file.SafeFileHandle, FileMode);
            file.Write(message);
            file.Flush(flushToDisk: true);
            File.Move(tmp, final, overwrite: true);
            // new/ is not readable to the user, so it cannot be opened to fsync the rename;
            // fsync of the renamed file commits the journal transaction that holds the rename
            // on ext4, xfs and btrfs. Root (who can open it) syncs the directory as well.
            file.Flush(flushToDisk: true);
            TrySyncDirectory(Path.Combine(spoolDir, "new"));
            return final;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            GroupCommitter.TryDelete(tmp);
            throw new IOException($"cannot write to the spool {spoolDir}: {e.Message}", e);
        }
    }

    private static void TrySyncDirectory(string path)
    {
        try
        {
            FileSync.Directory(path);
        }
        catch (IOException)
        {
            // No read permission on new/: the file's own fsync above stands for it.
        }
    }
}
