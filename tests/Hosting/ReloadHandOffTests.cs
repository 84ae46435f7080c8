using System.Net;
using System.Net.Sockets;
using System.Text;
using Failmail.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Failmail.Tests.Hosting;

public sealed class ReloadHandOffTests
{
    [Theory]
    [InlineData("", "--socket-fd=3")]
    [InlineData("--bind-addr=:2525", "--bind-addr=:2525 --socket-fd=3")]
    [InlineData("--socket-fd=3 --receiver", "--receiver --socket-fd=3")]
    [InlineData("--socket-fd 7 --receiver", "--receiver --socket-fd=3")]
    [InlineData("-socket-fd 7 --receiver", "--receiver --socket-fd=3")]
    [InlineData("-socket-fd=7 --receiver -socket-fd=8", "--receiver --socket-fd=3")]
    [InlineData("--receiver --socket-fd", "--receiver --socket-fd=3")]
    [InlineData("--subject-prefix=-socket-fd --poll 5s", "--subject-prefix=-socket-fd --poll 5s --socket-fd=3")]
    [InlineData("--pidfile /run/f.pid -- --socket-fd=9", "--pidfile /run/f.pid --socket-fd=3 -- --socket-fd=9")]
    public void ChildArgumentsDropEverySocketFdAndAppendFd3(string original, string expected)
    {
        var args = original.Split(' ', StringSplitOptions.RemoveEmptyEntries);

        var child = ReloadHandOff.ChildArguments(args);

        Assert.Equal(expected, string.Join(' ', child));
    }

    [Fact]
    public void ProgramWithSlashIsMadeAbsoluteAndBareNameIsLeftForPathSearch()
    {
        Assert.Equal(Path.GetFullPath("dist/failmail"), ReloadHandOff.ResolveProgram("dist/failmail", "/proc/old"));
        Assert.Equal("/usr/bin/failmail", ReloadHandOff.ResolveProgram("/usr/bin/failmail", "/proc/old"));
        Assert.Equal("failmail", ReloadHandOff.ResolveProgram("failmail", "/opt/x/failmail"));
        Assert.Equal("/opt/x/failmail", ReloadHandOff.ResolveProgram("", "/opt/x/failmail"));
        Assert.Throws<InvalidOperationException>(() => ReloadHandOff.ResolveProgram(null, null));
    }

    [Fact]
    public void ChildEnvironmentDropsSocketActivationAndKeepsNotifySocket()
    {
        Environment.SetEnvironmentVariable("FAILMAIL_TEST_KEEP", "yes");
        try
        {
            var env = ReloadHandOff.ChildEnvironment();

            Assert.Contains("FAILMAIL_TEST_KEEP=yes", env);
            Assert.Single(env, e => e == $"FAILMAIL_RELOAD_PARENT_PID={Environment.ProcessId}");
            Assert.DoesNotContain(env, e => e.StartsWith("LISTEN_FDS=", StringComparison.Ordinal) || e.StartsWith("LISTEN_PID=", StringComparison.Ordinal));
        }
        finally
        {
            Environment.SetEnvironmentVariable("FAILMAIL_TEST_KEEP", null);
        }
    }

    [Fact]
    public void ReloadChildLearnsItsParentOnceFromTheEnvironment()
    {
        Environment.SetEnvironmentVariable(ReloadHandOff.ParentPidVariable, "4242");
        try
        {
            Assert.Equal(4242, ReloadHandOff.TakeParentPid());
            Assert.Null(ReloadHandOff.TakeParentPid());
        }
        finally
        {
            Environment.SetEnvironmentVariable(ReloadHandOff.ParentPidVariable, null);
        }
    }

    // The child is python: it accepts one connection on fd 3 and answers with its pid, whether
    // its stdin is /dev/null, and its argv, proving the socket arrived at fd 3 with the
    // rewritten arguments. Meanwhile the parent stops accepting the way the SMTP listener must
    // after a hand-off: cancel the pending accept, then dispose. (Disposing with the accept
    // still pending makes .NET close abortively, setting SO_LINGER 0 on the shared socket, and
    // every connection the child accepts afterwards ends in RST; SafeListenerCloseKeepsLingerOff
    // below shows the difference.)
    [Fact]
    [Trait("Category", "EndToEnd")]
    public async Task ChildAcceptsFromTheHandedOverSocketAfterTheParentStopsAccepting()
    {
        const string Script = """
            import os, select, socket, sys
            s = socket.socket(fileno=3)
            # The socket is non-blocking (the open file description is shared with .NET): wait
            # for readiness rather than switch the parent's socket to blocking mode.
            while True:
                select.select([s], [], [])
                try:
                    c, _ = s.accept()
                    break
                except BlockingIOError:
                    pass
            c.setblocking(True)
            stdin_is_null = os.path.samestat(os.fstat(0), os.stat('/dev/null'))
            c.sendall(('%d %s %s\n' % (os.getpid(), stdin_is_null, ' '.join(sys.argv[1:]))).encode())
            c.close()
            """;
        using var listener = Listen(out var port);
        using var stopAccepting = new CancellationTokenSource();
        var pendingAccept = listener.AcceptAsync(stopAccepting.Token).AsTask();
        var args = ReloadHandOff.ChildArguments(["-c", Script, "--socket-fd", "9", "--receiver"]);

        // Under the end-to-end tests' start lock: no child they start in parallel may inherit
        // the socket while it is being handed over.
        int pid;
        lock (EndToEnd.ChildProcesses.StartLock)
        {
            pid = ReloadHandOff.Spawn("python3", args, ReloadHandOff.ChildEnvironment(), listener);
        }
        try
        {
            Assert.True(pid > 0);
            Assert.False(PosixNative.IsCloseOnExec((int)listener.SafeHandle.DangerousGetHandle()));
            await stopAccepting.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pendingAccept.WaitAsync(TimeSpan.FromSeconds(10)));
            listener.Dispose();

            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(TimeSpan.FromSeconds(10));
            var reply = await ReadAllAsync(client).WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Equal($"{pid} True --receiver --socket-fd=3\n", reply);
        }
        finally
        {
            KillAndReap(pid);
        }
    }

    // Without a child: a second descriptor stands for the child's. Closing our listener after
    // cancelling its accept leaves the shared socket's SO_LINGER off; disposing it with the
    // accept pending turns it on (the .NET behaviour the hand-off has to avoid).
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task SafeListenerCloseKeepsLingerOff(bool cancelFirst, bool expectLinger)
    {
        var listener = Listen(out _);
        var copy = PosixNative.Fcntl((int)listener.SafeHandle.DangerousGetHandle(), PosixNative.FDupFdCloexec, 10);
        using var shared = new Socket(new SafeSocketHandle(copy, ownsHandle: true));
        using var stopAccepting = new CancellationTokenSource();
        var pendingAccept = listener.AcceptAsync(stopAccepting.Token).AsTask();

        if (cancelFirst)
        {
            await stopAccepting.CancelAsync();
        }
        listener.Dispose();
        await Assert.ThrowsAnyAsync<Exception>(() => pendingAccept.WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(expectLinger, shared.LingerState?.Enabled);
    }

    private static Socket Listen(out int port)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        return listener;
    }

    [Fact]
    [Trait("Category", "EndToEnd")]
    public async Task TryHandOffTellsSystemdReloadingThenTheChildsPid()
    {
        var dir = Directory.CreateTempSubdirectory("failmail-handoff-").FullName;
        var pid = 0;
        try
        {
            var notifyPath = Path.Combine(dir, "notify");
            using var systemd = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            systemd.Bind(new UnixDomainSocketEndPoint(notifyPath));
            using var listener = Listen(out _);

            pid = ReloadHandOff.TryHandOff(listener, "python3", ["-c", "import sys"], new SystemdNotifier(notifyPath), NullLogger.Instance) ?? 0;

            Assert.True(pid > 0);
            Assert.StartsWith("RELOADING=1\nMONOTONIC_USEC=", await ReceiveAsync(systemd).WaitAsync(TimeSpan.FromSeconds(10)), StringComparison.Ordinal);
            Assert.Equal($"MAINPID={pid}", await ReceiveAsync(systemd).WaitAsync(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            KillAndReap(pid);
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task FailedHandOffKeepsServingAndTellsSystemdReadyAgain()
    {
        var dir = Directory.CreateTempSubdirectory("failmail-handoff-").FullName;
        try
        {
            var notifyPath = Path.Combine(dir, "notify");
            using var systemd = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            systemd.Bind(new UnixDomainSocketEndPoint(notifyPath));
            using var listener = Listen(out _);

            var pid = ReloadHandOff.TryHandOff(listener, "/nonexistent/failmail", [], new SystemdNotifier(notifyPath), NullLogger.Instance);

            Assert.Null(pid);
            Assert.StartsWith("RELOADING=1", await ReceiveAsync(systemd).WaitAsync(TimeSpan.FromSeconds(10)), StringComparison.Ordinal);
            Assert.Equal("READY=1", await ReceiveAsync(systemd).WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.True(PosixNative.IsCloseOnExec((int)listener.SafeHandle.DangerousGetHandle()));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<string> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[4096];
        var n = await socket.ReceiveAsync(buffer, SocketFlags.None);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    [Fact]
    public void SpawnOfAMissingProgramThrows()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);

        Assert.Throws<IOException>(() => ReloadHandOff.Spawn("/nonexistent/failmail", [], [], listener));
    }

    internal static async Task<string> ReadAllAsync(Socket socket)
    {
        var buffer = new byte[4096];
        var text = new StringBuilder();
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
        {
            text.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        return text.ToString();
    }

    internal static void KillAndReap(int pid)
    {
        if (pid <= 0)
        {
            return;
        }
        _ = PosixNative.Kill(pid, PosixNative.SigKill);
        _ = PosixNative.Reap(pid, block: true);
    }
}
