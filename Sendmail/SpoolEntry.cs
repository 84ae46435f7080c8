using System.Runtime.InteropServices;
using Failmail.Hosting;
using Microsoft.Win32.SafeHandles;

namespace Failmail.Sendmail;

// One entry of spool/new, opened as the untrusted input it is: anyone who can run
// `failmail sendmail` can put anything there. Only a regular file within the size limit is
// opened at all. The entry's type comes from lstat, so a FIFO, a device, a directory or a
// symlink (to /dev/zero, say) is refused without being opened; the open itself uses
// O_NOFOLLOW and O_NONBLOCK, so an entry swapped for a link or a FIFO after the lstat cannot
// be followed or block, and fstat on the open file checks type and size again. Reads are
// pread(2) at offsets the caller bounds.
internal sealed class SpoolEntry : IDisposable
{
    private readonly SafeFileHandle _handle;

    private SpoolEntry(SafeFileHandle handle, long size)
    {
        _handle = handle;
        Size = size;
    }

    // st_size when opened. The reader never reads past MaxFileSize, whatever the file becomes.
    public long Size { get; }

    // The entry open for reading; or null with the reason it is refused (the caller moves it
    // aside), or null with a null reason when it is gone (another importer took it). Throws
    // IOException for failures of this process, not of the entry (out of file descriptors).
    public static SpoolEntry? Open(string path, SpoolLimits limits, out string? refusal)
    {
        var errno = PosixNative.Stat(path, -1, out var mode, out var size);
        if (errno == PosixNative.ENoEnt)
        {
            refusal = null;
            return null;
        }
        if (errno != 0)
        {
            throw new IOException($"lstat {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        if (Refuse(mode, size, limits) is { } early)
        {
            refusal = early;
            return null;
        }
        var fd = PosixNative.Open(path, PosixNative.ORdOnly | PosixNative.ONoFollow | PosixNative.ONonBlock | PosixNative.OCloexec, 0);
        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            refusal = errno switch
            {
                PosixNative.ENoEnt => null,
                PosixNative.ELoop => "not a regular file (a symbolic link)",
                PosixNative.EMFile or PosixNative.ENFile or PosixNative.ENoMem or PosixNative.EIntr =>
                    throw new IOException($"open {path}: {Marshal.GetPInvokeErrorMessage(errno)}"),
                _ => $"cannot be opened: {Marshal.GetPInvokeErrorMessage(errno)}",
            };
            return null;
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        errno = PosixNative.Stat(null, fd, out mode, out size);
        refusal = errno != 0 ? $"fstat failed: {Marshal.GetPInvokeErrorMessage(errno)}" : Refuse(mode, size, limits);
        if (refusal is not null)
        {
            handle.Dispose();
            return null;
        }
        return new SpoolEntry(handle, size);
    }

    // Fills buffer from offset up to its end or the end of the file: read is short only at the
    // end of the file. A read error is the entry's (a bad disk block), not the store's: the
    // caller refuses the entry with it, so it cannot stop every later entry at every poll.
    public bool TryRead(Span<byte> buffer, long offset, out int read, out string? error)
    {
        read = 0;
        error = null;
        try
        {
            while (read < buffer.Length)
            {
                var n = RandomAccess.Read(_handle, buffer[read..], offset + read);
                if (n == 0)
                {
                    break;
                }
                read += n;
            }
            return true;
        }
        catch (IOException e)
        {
            error = $"read error: {e.Message}";
            return false;
        }
    }

    public void Dispose() => _handle.Dispose();

    public static string TooLarge(long messageSize, SpoolLimits limits) =>
        $"message of {messageSize} octets is larger than --max-message-size {limits.MaxMessageSize} (SMTP answers 552)";

    private static string? Refuse(int mode, long size, SpoolLimits limits)
    {
        var kind = (mode & PosixNative.SIfMt) switch
        {
            PosixNative.SIfReg => null,
            PosixNative.SIfLnk => "a symbolic link",
            PosixNative.SIfIfo => "a FIFO",
            PosixNative.SIfDir => "a directory",
            PosixNative.SIfChr => "a character device",
            PosixNative.SIfBlk => "a block device",
            PosixNative.SIfSock => "a socket",
            _ => "of unknown type",
        };
        if (kind is not null)
        {
            return $"not a regular file ({kind})";
        }
        if (size > limits.MaxFileSize)
        {
            return $"file of {size} octets is larger than --max-message-size {limits.MaxMessageSize} plus the envelope lines (SMTP answers 552)";
        }
        return null;
    }
}
