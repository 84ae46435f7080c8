using System.Net;
using System.Net.Sockets;

namespace Failmail.Tests.EndToEnd;

internal static class FreePort
{
    // Asks the kernel for a free loopback port. Another process may take it before we bind;
    // callers that start external servers retry on a bind failure.
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // Polls until something accepts on the port: a bounded loop, never an unbounded wait.
    public static async Task WaitForListenerAsync(int port, Func<bool> stillRunning, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (!stillRunning())
            {
                throw new InvalidOperationException($"process exited before listening on port {port}");
            }
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TimeSpan.FromSeconds(2));
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new TimeoutException($"nothing listened on 127.0.0.1:{port} within {timeout}");
    }
}
