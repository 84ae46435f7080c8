using System.Runtime.InteropServices;

namespace Failmail.Tests.EndToEnd;

// Sends POSIX signals to processes the tests started (Process.Kill only sends SIGKILL).
internal static partial class Signals
{
    public const int Hup = 1;
    public const int Int = 2;
    public const int Kill = 9;
    public const int Usr1 = 10;
    public const int Term = 15;

    public static void Send(int pid, int signal)
    {
        if (kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastWin32Error()}");
        }
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // DllImport keeps the test project free of unsafe code.
    private static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054
}
