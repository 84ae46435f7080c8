using System.Collections;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Failmail.Hosting;

// Reload by hand-off (spec §8.3): start a new copy of the program with the listening socket
// at fd 3 and `--socket-fd=3`, then let the caller drain and exit. Both processes accept from
// the same kernel socket in between, so no connection is refused.
internal static unsafe class ReloadHandOff
{
    public const int ChildSocketFd = 3;

    // Tells the child which process handed it the socket: the pidfile naming that process is
    // the child's to take over. getppid() cannot tell, as the parent may exit (and the child be
    // re-parented) before the child looks.
    public const string ParentPidVariable = "FAILMAIL_RELOAD_PARENT_PID";

    // Environment variables that describe this process's own sockets, not the child's.
    private static readonly string[] DroppedEnvironment = ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", ParentPidVariable];

    // The original argv minus every --socket-fd (in any spelling failmail's flag package takes:
    // -socket-fd, --socket-fd, with `=value` or a separate value), plus `--socket-fd=3`.
    // failmail dropped every argument merely containing "-socket-fd"; we match the flag only,
    // so a value such as --subject-prefix=-socket-fd survives.
    public static IReadOnlyList<string> ChildArguments(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var result = new List<string>(args.Count + 1);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                // Everything after the terminator is positional: keep it verbatim, but the new
                // flag must come before it.
                result.Add($"--socket-fd={ChildSocketFd}");
                for (; i < args.Count; i++)
                {
                    result.Add(args[i]);
                }
                return result;
            }
            if (arg is "-socket-fd" or "--socket-fd")
            {
                i++; // and its value
                continue;
            }
            if (arg.StartsWith("-socket-fd=", StringComparison.Ordinal) || arg.StartsWith("--socket-fd=", StringComparison.Ordinal))
            {
                continue;
            }
            result.Add(arg);
        }
        result.Add($"--socket-fd={ChildSocketFd}");
        return result;
    }

    // The program to start on reload. A path with a slash is made absolute against the start-up
    // directory; a bare name is left for posix_spawnp's PATH search, as a shell would. Either way
    // a new binary installed at the same path is what runs. Environment.ProcessPath is only the
    // fallback: it reads /proc/self/exe, which follows symlinks to the old version and names
    // the deleted inode once the file is replaced.
    public static string ResolveProgram(string? argv0, string? processPath)
    {
        if (!string.IsNullOrEmpty(argv0))
        {
            return argv0.Contains('/', StringComparison.Ordinal) ? Path.GetFullPath(argv0) : argv0;
        }
        if (!string.IsNullOrEmpty(processPath))
        {
            return processPath;
        }
        throw new InvalidOperationException("cannot tell which program to start on reload: argv[0] is empty");
    }

    // In a reload child: the pid of the process that handed over the socket, for
    // Pidfile.Create's parentPid; null when not started by a reload. Consumed: unset after.
    public static int? TakeParentPid()
    {
        var value = Environment.GetEnvironmentVariable(ParentPidVariable);
        Environment.SetEnvironmentVariable(ParentPidVariable, null);
        return int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;
    }

    // The inherited environment without the socket-activation variables, plus this process's
    // pid for the child's TakeParentPid.
    public static IReadOnlyList<string> ChildEnvironment()
    {
        var result = new List<string> { string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{ParentPidVariable}={Environment.ProcessId}") };
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var name = (string)entry.Key;
            if (Array.IndexOf(DroppedEnvironment, name) >= 0)
            {
                continue;
            }
            result.Add($"{name}={entry.Value}");
        }
        return result;
    }

    // The whole hand-off as the host runs it on SIGUSR1/SIGHUP: tell systemd a reload is under
    // way, start the child, tell systemd the child is the main process now. Returns the child's
    // pid, or null when it could not be started (logged; the caller keeps serving).
    // On success the caller then: stops accepting by cancelling the pending AcceptAsync and
    // awaiting it, and only then disposes the listener (disposing with an accept pending closes
    // abortively and sets SO_LINGER 0 on the socket the child accepts from); lets sessions
    // finish within --shutdown-timeout; flushes; calls Pidfile.KeepForChild; does NOT send
    // STOPPING=1; exits 0.
    public static int? TryHandOff(Socket listener, string program, IReadOnlyList<string> originalArgs, SystemdNotifier notifier, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(notifier);
        ArgumentNullException.ThrowIfNull(logger);
        _ = notifier.Reloading(MonotonicMicroseconds());
        try
        {
            var pid = Spawn(program, ChildArguments(originalArgs), ChildEnvironment(), listener);
            HostLog.ReloadChildStarted(logger, program, pid);
            _ = notifier.MainPid(pid);
            return pid;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            HostLog.ReloadFailed(logger, ex.Message);
            // Still serving: systemd is waiting for READY=1 to end the reload.
            _ = notifier.Ready();
            return null;
        }
    }

    // CLOCK_MONOTONIC in microseconds, as systemd's MONOTONIC_USEC wants it.
    // Stopwatch reads CLOCK_MONOTONIC on Linux.
    internal static long MonotonicMicroseconds() => (long)(Stopwatch.GetTimestamp() * (1_000_000.0 / Stopwatch.Frequency));

    // Starts `program args` with the socket at fd 3, stdin from /dev/null and stdout/stderr
    // inherited; returns the child's pid. The child is not waited for.
    // Afterwards this process's own descriptor loses FD_CLOEXEC, as a precaution: to unblock
    // synchronous calls, .NET's close path may shutdown(2) a close-on-exec socket, and shutdown
    // acts on the socket the child now shares, not on our descriptor; .NET leaves descriptors
    // without FD_CLOEXEC (which it takes for inherited ones) alone. The socket stays
    // non-blocking: the open file description, O_NONBLOCK included, is shared with the child.
    public static int Spawn(string program, IReadOnlyList<string> args, IReadOnlyList<string> environment, Socket listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        return Spawn(program, args, environment, [(listener, ChildSocketFd)], newProcessGroup: false);
    }

    // The general form: each socket at its own fd in the child (the master passes SMTP at 3 and
    // HTTP at 4), optionally in a process group of its own (so a terminal's Ctrl+C reaches the
    // master alone, which then stops its workers once).
    public static int Spawn(string program, IReadOnlyList<string> args, IReadOnlyList<string> environment,
        IReadOnlyList<(Socket Socket, int ChildFd)> sockets, bool newProcessGroup)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(sockets);

        var copies = new List<(int Copy, int ChildFd, int Fd)>();
        try
        {
            foreach (var (socket, childFd) in sockets)
            {
                var fd = (int)socket.SafeHandle.DangerousGetHandle();
                // dup2(fd, 3) keeps FD_CLOEXEC when fd is already 3, so always hand over a fresh
                // copy (close-on-exec itself, so only the dup2 target reaches the child).
                var copy = PosixNative.Fcntl(fd, PosixNative.FDupFdCloexec, 10);
                if (copy < 0)
                {
                    throw new IOException($"dup of listening socket fd {fd}: errno {Marshal.GetLastPInvokeError()}");
                }
                copies.Add((copy, childFd, fd));
            }
            var pid = SpawnWithSockets(program, args, environment, copies.Select(c => (c.Copy, c.ChildFd)).ToList(), newProcessGroup);
            foreach (var (_, _, fd) in copies)
            {
                PosixNative.SetCloseOnExec(fd, false);
            }
            return pid;
        }
        finally
        {
            foreach (var (copy, _, _) in copies)
            {
                _ = PosixNative.Close(copy);
            }
        }
    }

    private static int SpawnWithSockets(string program, IReadOnlyList<string> args, IReadOnlyList<string> environment,
        IReadOnlyList<(int Fd, int ChildFd)> sockets, bool newProcessGroup)
    {
        var actions = NativeMemory.AllocZeroed(PosixNative.SpawnStructSize);
        var attr = NativeMemory.AllocZeroed(PosixNative.SpawnStructSize);
        var sigset = NativeMemory.AllocZeroed(PosixNative.SigSetSize);
        var argv = AllocStrings([program, .. args]);
        var envp = AllocStrings(environment);
        try
        {
            Check(PosixNative.FileActionsInit(actions), "posix_spawn_file_actions_init");
            Check(PosixNative.AttrInit(attr), "posix_spawnattr_init");
            try
            {
                Check(PosixNative.FileActionsAddOpen(actions, 0, "/dev/null", PosixNative.ORdOnly, 0), "addopen /dev/null");
                foreach (var (fd, childFd) in sockets)
                {
                    Check(PosixNative.FileActionsAddDup2(actions, fd, childFd), "adddup2");
                }

                // The child starts with no blocked signals and SIGPIPE at its default, whatever
                // this thread and the runtime had set up.
                _ = PosixNative.SigEmptySet(sigset);
                Check(PosixNative.AttrSetSigMask(attr, sigset), "posix_spawnattr_setsigmask");
                _ = PosixNative.SigAddSet(sigset, PosixNative.SigPipe);
                Check(PosixNative.AttrSetSigDefault(attr, sigset), "posix_spawnattr_setsigdefault");
                // setpgroup's default of 0 makes the child the leader of a new group.
                var flags = (short)(PosixNative.PosixSpawnSetSigMask | PosixNative.PosixSpawnSetSigDef | (newProcessGroup ? PosixNative.PosixSpawnSetPgroup : 0));
                Check(PosixNative.AttrSetFlags(attr, flags), "posix_spawnattr_setflags");

                int pid;
                var error = PosixNative.PosixSpawnP(&pid, program, actions, attr, argv, envp);
                if (error != 0)
                {
                    throw new IOException($"cannot start {program}: errno {error}");
                }
                return pid;
            }
            finally
            {
                _ = PosixNative.AttrDestroy(attr);
                _ = PosixNative.FileActionsDestroy(actions);
            }
        }
        finally
        {
            FreeStrings(argv);
            FreeStrings(envp);
            NativeMemory.Free(sigset);
            NativeMemory.Free(attr);
            NativeMemory.Free(actions);
        }
    }

    private static void Check(int error, string what)
    {
        if (error != 0)
        {
            throw new IOException($"{what}: errno {error}");
        }
    }

    // A NULL-terminated array of UTF-8 strings, as execve takes.
    private static nint* AllocStrings(IReadOnlyList<string> values)
    {
        var array = (nint*)NativeMemory.AllocZeroed((nuint)(values.Count + 1), (nuint)sizeof(nint));
        for (var i = 0; i < values.Count; i++)
        {
            array[i] = Marshal.StringToCoTaskMemUTF8(values[i]);
        }
        return array;
    }

    private static void FreeStrings(nint* array)
    {
        for (var p = array; *p != 0; p++)
        {
            Marshal.FreeCoTaskMem(*p);
        }
        NativeMemory.Free(array);
    }
}
