using System.Runtime.InteropServices;

namespace Failmail.Maildir;

// fsync for directories: a rename is durable only once its directory is synced, and .NET
// has no API that opens a directory for that.
internal static partial class FileSync
{
    private const int ORdOnly = 0;
    private const int ODirectory = 0x10000; // Linux x64

    public static void Directory(string path)
    {
        var fd = Open(path, ORdOnly | ODirectory);
        if (fd < 0)
        {
            throw new IOException($"open {path}: errno {Marshal.GetLastPInvokeError()}");
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync {path}: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    // A directory fd for FileSystem below, held open for the store's lifetime: syncfs(2)
    // reports a writeback error only to fds opened before it happened (Linux >= 5.8).
    public static int OpenDirectory(string path)
    {
        var fd = Open(path, ORdOnly | ODirectory);
        if (fd < 0)
        {
            throw new IOException($"open {path}: errno {Marshal.GetLastPInvokeError()}");
        }
        return fd;
    }

    public static void CloseDirectory(int fd) => _ = Close(fd);

    // syncfs(2): every dirty file and directory of the filesystem holding fd, in one call.
    public static void FileSystem(int fd, string path)
    {
        if (SyncFs(fd) != 0)
        {
            throw new IOException($"syncfs {path}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFs(int fd);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
