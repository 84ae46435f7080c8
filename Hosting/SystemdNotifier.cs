using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Failmail.Hosting;

// sd_notify(3) without libsystemd: one datagram per state change to $NOTIFY_SOCKET (a path,
// or '@' for the abstract namespace). Without NOTIFY_SOCKET every call does nothing. Errors
// are swallowed, as sd_notify's callers do: a missing supervisor must not stop the mail.
internal sealed class SystemdNotifier
{
    private readonly string? _socketPath;

    public SystemdNotifier(string? notifySocket)
    {
        _socketPath = string.IsNullOrEmpty(notifySocket) ? null : notifySocket;
    }

    // NOTIFY_SOCKET is left in the environment on purpose: a reload child needs it to send
    // its own READY=1 (systemd accepts it with NotifyAccess=all).
    public static SystemdNotifier FromEnvironment() => new(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    public bool IsEnabled => _socketPath is not null;

    // Accepting mail.
    public bool Ready() => Send("READY=1");

    // Shutting down for good. Not after a reload hand-off: the child carries the service on.
    public bool Stopping() => Send("STOPPING=1");

    // Before a reload hand-off; the child's READY=1 completes it. MONOTONIC_USEC lets
    // systemd's Type=notify-reload match the reload to the request.
    public bool Reloading(long monotonicMicroseconds)
        => Send(string.Create(CultureInfo.InvariantCulture, $"RELOADING=1\nMONOTONIC_USEC={monotonicMicroseconds}"));

    // After a hand-off, so systemd follows the child as the service's main process.
    public bool MainPid(int pid) => Send(string.Create(CultureInfo.InvariantCulture, $"MAINPID={pid}"));

    public bool Status(string text) => Send("STATUS=" + text.ReplaceLineEndings(" "));

    public bool Send(string state)
    {
        if (_socketPath is null)
        {
            return false;
        }
        // '@' stands for the leading NUL of a Linux abstract socket address.
        var path = _socketPath[0] == '@' ? "\0" + _socketPath[1..] : _socketPath;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(state), new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
