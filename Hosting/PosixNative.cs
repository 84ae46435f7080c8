using System.Runtime.InteropServices;

namespace Failmail.Hosting;

// The few libc calls the hand-off needs and .NET does not offer: Process cannot pass a file
// descriptor to a child, and Socket cannot change FD_CLOEXEC. Constants are Linux x64 glibc.
// The spool importer's untrusted reads need open(2) with O_NOFOLLOW | O_NONBLOCK (File.OpenHandle
// follows links and blocks on a FIFO), the file type without opening (lstat) and rename(2) of
// whatever an entry is; statx is used for both stats because its layout is the same on every
// architecture.
internal static unsafe partial class PosixNative
{
    public const int FGetFd = 1;
    public const int FSetFd = 2;
    public const int FDupFdCloexec = 1030;
    public const int FdCloexec = 1;
    public const int ORdOnly = 0;
    public const short PosixSpawnSetSigDef = 0x04;
    public const short PosixSpawnSetSigMask = 0x08;
    public const int SigHup = 1;
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigUsr1 = 10;
    public const int SigUsr2 = 12;
    public const short PosixSpawnSetPgroup = 0x02;
    public const int SigPipe = 13;
    public const int SigTerm = 15;
    public const int WNoHang = 1;
    public const int ONonBlock = 0x800;
    public const int OCloexec = 0x80000;
    public const int ENoEnt = 2;
    public const int EIntr = 4;
    public const int ENoMem = 12;
    public const int ENFile = 23;
    public const int EMFile = 24;
    public const int ELoop = 40;
    // st_mode's file type bits (S_IFMT) and the types.
    public const int SIfMt = 0xF000;
    public const int SIfReg = 0x8000;
    public const int SIfDir = 0x4000;
    public const int SIfLnk = 0xA000;
    public const int SIfIfo = 0x1000;
    public const int SIfChr = 0x2000;
    public const int SIfBlk = 0x6000;
    public const int SIfSock = 0xC000;

    // O_NOFOLLOW is one of the few open flags that differ between x64 and arm64.
    public static int ONoFollow => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x8000 : 0x20000;

    // glibc's posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336, sigset_t 128:
    // allocate generously so a libc with larger structs still fits.
    public const int SpawnStructSize = 1024;
    public const int SigSetSize = 256;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    // open(2) is variadic; the mode is read only with O_CREAT, which the callers never pass.
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Rename(string from, string to);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirFd, string path, int flags, uint mask, void* buffer);

    // The spool's directories (Sendmail/SpoolDirectory): lchown never follows a link.
    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Lchown(string path, int owner, int group);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial int Geteuid();

    [LibraryImport("libc", EntryPoint = "getppid")]
    public static partial int Getppid();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "waitid", SetLastError = true)]
    private static partial int WaitId(int idType, int id, void* info, int options);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    public static partial int WaitPid(int pid, int* status, int options);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    public static partial int FileActionsInit(void* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    public static partial int FileActionsDestroy(void* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    public static partial int FileActionsAddDup2(void* actions, int fd, int newFd);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int FileActionsAddOpen(void* actions, int fd, string path, int oflag, uint mode);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    public static partial int AttrInit(void* attr);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    public static partial int AttrDestroy(void* attr);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    public static partial int AttrSetFlags(void* attr, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    public static partial int AttrSetSigMask(void* attr, void* sigset);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    public static partial int AttrSetSigDefault(void* attr, void* sigset);

    [LibraryImport("libc", EntryPoint = "sigemptyset")]
    public static partial int SigEmptySet(void* sigset);

    [LibraryImport("libc", EntryPoint = "sigaddset")]
    public static partial int SigAddSet(void* sigset, int signal);

    // posix_spawnp returns the error number rather than setting errno.
    [LibraryImport("libc", EntryPoint = "posix_spawnp", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int PosixSpawnP(int* pid, string file, void* actions, void* attr, nint* argv, nint* envp);

    // True when the process is running: kill 0 succeeds (or fails only for lack of permission)
    // and it is not a zombie, which kill also reaches until its parent reaps it.
    public static bool ProcessExists(int pid)
    {
        const int EPerm = 1;
        if (pid <= 0)
        {
            return false;
        }
        if (Kill(pid, 0) != 0 && Marshal.GetLastPInvokeError() != EPerm)
        {
            return false;
        }
        return !IsZombie(pid);
    }

    // /proc/<pid>/stat is "pid (comm) S ...": the state follows the last ')'.
    private static bool IsZombie(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return false;
        }
        var close = stat.LastIndexOf(')');
        return close >= 0 && close + 2 < stat.Length && stat[close + 2] is 'Z' or 'X';
    }

    // Collects a finished child (a spawned one is otherwise a zombie until we exit); with
    // block false it returns at once. Returns the pid collected, 0 if still running, -1 on error.
    public static int Reap(int pid, bool block)
    {
        int status;
        return WaitPid(pid, &status, block ? 0 : WNoHang);
    }

    // As Reap, and how the child ended: its exit status, or 128 + the signal that killed it.
    public static int Reap(int pid, out int exitStatus)
    {
        int status;
        var result = WaitPid(pid, &status, WNoHang);
        exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F);
        return result;
    }

    // Blocks until the child has exited but leaves it a zombie (WNOWAIT); Reap collects it.
    public static bool WaitExitedKeepZombie(int pid)
    {
        const int PPid = 1;
        const int WExited = 4;
        const int WNoWait = 0x01000000;
        var info = stackalloc byte[256]; // siginfo_t is 128 bytes
        return WaitId(PPid, pid, info, WExited | WNoWait) == 0;
    }

    public static bool IsCloseOnExec(int fd)
    {
        var flags = Fcntl(fd, FGetFd, 0);
        return flags >= 0 && (flags & FdCloexec) != 0;
    }

    public static void SetCloseOnExec(int fd, bool value)
    {
        var flags = Fcntl(fd, FGetFd, 0);
        if (flags < 0)
        {
            throw new IOException($"fcntl F_GETFD on fd {fd}: errno {Marshal.GetLastPInvokeError()}");
        }
        var next = value ? flags | FdCloexec : flags & ~FdCloexec;
        if (Fcntl(fd, FSetFd, next) < 0)
        {
            throw new IOException($"fcntl F_SETFD on fd {fd}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    // lstat(2) of path (a link is reported as a link, never followed), or fstat(2) of fd when
    // path is null. Returns 0 with the st_mode and st_size, or the errno.
    public static int Stat(string? path, int fd, out int mode, out long size)
    {
        const int AtFdCwd = -100;
        const int AtSymlinkNoFollow = 0x100;
        const int AtEmptyPath = 0x1000;
        const uint StatxType = 0x1;
        const uint StatxSize = 0x200;
        // struct statx is 256 bytes: stx_mode (u16) at 28, stx_size (u64) at 40.
        var buffer = stackalloc byte[256];
        var result = path is null
            ? Statx(fd, "", AtEmptyPath | AtSymlinkNoFollow, StatxType | StatxSize, buffer)
            : Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType | StatxSize, buffer);
        if (result != 0)
        {
            mode = 0;
            size = 0;
            return Marshal.GetLastPInvokeError();
        }
        mode = *(ushort*)(buffer + 28);
        size = *(long*)(buffer + 40);
        return 0;
    }
}
