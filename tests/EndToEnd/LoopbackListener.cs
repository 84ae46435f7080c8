using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Failmail.Hosting;

namespace Failmail.Tests.EndToEnd;

// A TCP socket listening on 127.0.0.1, bound by the test and handed to failmail with
// --socket-fd (ChildProcesses.Start). The port is never free between "pick a port" and "the
// server binds it", so no other process on the machine can take it in between, which is what
// made the end-to-end tests race when they picked a port, closed it and passed the number.
//
// It is kept as a bare descriptor, closed with close(2), not as a .NET Socket: disposing a
// Socket may switch the shared open file description to blocking mode or shut the socket
// down (see ReloadHandOff.Spawn), and either would act on the child's listening socket too.
// The descriptor keeps FD_CLOEXEC except inside ChildProcesses' start lock.
internal sealed class LoopbackListener : IDisposable
{
    private int _fd;

    private LoopbackListener(int fd, int port)
    {
        _fd = fd;
        Port = port;
    }

    public int Port { get; }

    public int Fd => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(LoopbackListener));

    public string Address => $"127.0.0.1:{Port}";

    public static LoopbackListener Bind()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen(512); // failmail's own backlog (SmtpListener)
        var port = ((IPEndPoint)socket.LocalEndPoint!).Port; // bound just above
        // A copy above the stdio range, close-on-exec: only a child started under the lock
        // with this listener gets it.
        var fd = PosixNative.Fcntl((int)socket.SafeHandle.DangerousGetHandle(), PosixNative.FDupFdCloexec, 3);
        if (fd < 0)
        {
            throw new IOException($"dup of the listening socket: errno {Marshal.GetLastPInvokeError()}");
        }
        // The Socket is disposed here, before any child shares the socket: the copy keeps it open.
        return new LoopbackListener(fd, port);
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            _ = PosixNative.Close(fd);
        }
    }
}
