using System.Globalization;
using System.Net.Sockets;

namespace Failmail.Hosting;

// Where the SMTP listening socket comes from when failmail does not bind it itself: a
// `--socket-fd N` handed over by a reloading parent or a supervisor, or systemd socket
// activation (sd_listen_fds(3): LISTEN_PID names us, LISTEN_FDS counts fds from 3).
internal static class ListenSocketSource
{
    public const int SystemdFirstFd = 3;

    // A listening socket to accept from, or null to bind --bind-addr as usual.
    // socketFd is the --socket-fd value (0 = none). Throws ListenSocketException with a
    // message fit for the user when the descriptor is not a listening TCP socket.
    // firstFd is systemd's SD_LISTEN_FDS_START; tests pass another number.
    public static Socket? Acquire(int socketFd, Func<string, string?>? getEnvironment = null, int? processId = null, int firstFd = SystemdFirstFd)
    {
        getEnvironment ??= Environment.GetEnvironmentVariable;
        if (socketFd < 0)
        {
            throw new ListenSocketException($"--socket-fd {socketFd}: not a file descriptor");
        }
        if (socketFd > 0)
        {
            return FromFd(socketFd, $"--socket-fd {socketFd}");
        }

        var listenPid = getEnvironment("LISTEN_PID");
        var listenFds = getEnvironment("LISTEN_FDS");
        if (string.IsNullOrEmpty(listenPid) || string.IsNullOrEmpty(listenFds))
        {
            return null;
        }
        // The variables are meant for one process: a child that inherited them must ignore
        // them. Either way they are consumed here, so a reload child never misreads them.
        Environment.SetEnvironmentVariable("LISTEN_PID", null);
        Environment.SetEnvironmentVariable("LISTEN_FDS", null);
        Environment.SetEnvironmentVariable("LISTEN_FDNAMES", null);
        if (!int.TryParse(listenPid, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || pid != (processId ?? Environment.ProcessId))
        {
            return null;
        }
        if (!int.TryParse(listenFds, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1)
        {
            throw new ListenSocketException($"LISTEN_FDS={listenFds}: expected a positive count of sockets");
        }
        if (count > 1)
        {
            throw new ListenSocketException($"LISTEN_FDS={count}: failmail takes exactly one listening socket (ListenStream= once in the .socket unit)");
        }
        return FromFd(firstFd, $"socket-activation fd {firstFd}");
    }

    // Wraps fd and checks that it is a TCP socket in the listening state. Inherited descriptors
    // keep FD_CLOEXEC clear on purpose: .NET then never shuts the shared socket down on Dispose
    // (see ReloadHandOff.Spawn), which matters because the supervisor or parent still holds it.
    public static Socket FromFd(int fd, string what)
    {
        if (PosixNative.Fcntl(fd, PosixNative.FGetFd, 0) < 0)
        {
            throw new ListenSocketException($"{what}: not an open file descriptor");
        }
        Socket socket;
        try
        {
            // ownsHandle false until validated: a wrong fd number must not be closed under
            // whatever else owns it.
            socket = new Socket(new SafeSocketHandle(fd, ownsHandle: false));
        }
        catch (SocketException ex)
        {
            throw new ListenSocketException($"{what}: not a socket ({ex.Message})", ex);
        }
        using (socket)
        {
            if (socket.AddressFamily == AddressFamily.Unknown)
            {
                throw new ListenSocketException($"{what}: not a socket");
            }
            if (socket.SocketType != SocketType.Stream
                || socket.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            {
                throw new ListenSocketException($"{what}: not a TCP socket ({socket.AddressFamily}, {socket.SocketType})");
            }
            var listening = socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection) is int value && value != 0;
            if (!listening)
            {
                throw new ListenSocketException($"{what}: the socket is not listening");
            }
        }
        var inherited = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        // A parent that closed its copy abortively (.NET does when an accept is still pending)
        // left SO_LINGER 0 on the shared socket, and every accepted connection would inherit it
        // and end in RST. Clear it; ReloadHandOff documents how the parent avoids setting it.
        inherited.LingerState = new LingerOption(false, 0);
        return inherited;
    }
}
