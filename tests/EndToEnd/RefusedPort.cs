using System.Net;
using System.Net.Sockets;

namespace Failmail.Tests.EndToEnd;

// A loopback port where nothing will ever answer, for "the relay is down" and "the daemon is
// not running": a socket bound but not listening, held for the test. Linux refuses connections
// to it (RST, ECONNREFUSED) as to a free port, but no other process can bind it meanwhile;
// a port picked free and closed could be taken by a server of a parallel test, and the
// "down" relay would then answer.
internal sealed class RefusedPort : IDisposable
{
    private const int SolSocket = 1; // Linux <sys/socket.h>
    private const int SoReuseAddr = 2;

    private readonly Socket _socket;

    public RefusedPort()
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        // .NET sets SO_REUSEADDR on Unix sockets, and Linux lets another SO_REUSEADDR socket
        // bind (and listen on) a port whose holder is not listening. Without it, the port
        // is ours alone.
        _socket.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(0));
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port; // bound just above
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public void Dispose() => _socket.Dispose();
}
