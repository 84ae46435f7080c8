using System.Diagnostics;
using Failmail.Hosting;

namespace Failmail.Tests.EndToEnd;

// Every external process the tests start is started here, under one lock.
//
// A child inherits every descriptor of the test process that lacks FD_CLOEXEC, and that flag
// is per process, not per Process.Start call. A LoopbackListener's descriptor loses it only
// inside the lock, for the one start that should inherit it, and gets it back before the lock
// is released; so no other child (a smtp-sink, a sendmail run, another failmail started by a
// test class running in parallel) can inherit a listening socket meant for someone else. A
// stray copy would keep the port listening after its failmail was killed, and connections
// would queue in a socket nobody accepts from.
//
// Process.Start returns once the child has exec'd (it waits for the exec on a pipe), and the
// child's descriptor table was copied at the fork: restoring the flag afterwards does not
// touch the child's copy.
internal static class ChildProcesses
{
    // Also taken by the unit tests that spawn (ReloadHandOffTests, SmtpListenerTests), for a
    // run that puts them in the same test process as the end-to-end tests.
    public static readonly Lock StartLock = new();

    public static Process Start(ProcessStartInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        lock (StartLock)
        {
            return Process.Start(info) ?? throw new InvalidOperationException("cannot start " + info.FileName);
        }
    }

    // Starts process with the listener's descriptor inherited at the same number (the caller
    // passes `--socket-fd {listener.Fd}`). The caller still owns its copy and closes it when
    // the child should be the only holder.
    public static void Start(Process process, LoopbackListener? inherited)
    {
        ArgumentNullException.ThrowIfNull(process);
        lock (StartLock)
        {
            if (inherited is null)
            {
                process.Start();
                return;
            }
            PosixNative.SetCloseOnExec(inherited.Fd, false);
            try
            {
                process.Start();
            }
            finally
            {
                PosixNative.SetCloseOnExec(inherited.Fd, true);
            }
        }
    }
}
