using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Failmail.Tests.EndToEnd;

// For servers that cannot be handed a bound socket (smtp-sink binds its own): a port that was
// free a moment ago, and a check that the server we started is the one listening on it.
// Anything that can take a socket uses LoopbackListener instead; a port that must stay dead
// is a RefusedPort; failmail's HTTP server binds port 0 and says which port it got.
internal static class FreePort
{
    private const string ListenState = "0A"; // TCP_LISTEN in /proc/net/tcp

    // Asks the kernel for a free loopback port. Another process may take it before the server
    // binds it: the caller waits with WaitForOwnListenerAsync and starts again on false.
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // True once process listens on 127.0.0.1:port, false if it exited first (a bind failure:
    // the port was taken); a bounded loop. A connect would not tell: when the port was taken
    // by another test's server, the connect succeeds to that server while ours is failing.
    public static async Task<bool> WaitForOwnListenerAsync(Process process, int port, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(process);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (ListensOn(process.Id, port))
            {
                return true;
            }
            if (process.HasExited)
            {
                return false;
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"process {process.Id} did not listen on 127.0.0.1:{port} within {timeout}");
    }

    // Whether pid holds a socket listening on 127.0.0.1:port: the socket's inode from
    // /proc/net/tcp, looked for among the process's descriptors.
    public static bool ListensOn(int pid, int port)
    {
        var local = "0100007F:" + port.ToString("X4", CultureInfo.InvariantCulture); // 127.0.0.1, little-endian
        string? inode = null;
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 9 && fields[1] == local && fields[3] == ListenState)
            {
                inode = fields[9];
                break;
            }
        }
        if (inode is null)
        {
            return false;
        }
        var target = $"socket:[{inode}]";
        try
        {
            foreach (var fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
            {
                try
                {
                    if (new FileInfo(fd).LinkTarget == target)
                    {
                        return true;
                    }
                }
                catch (IOException)
                {
                    // closed while we looked
                }
            }
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException or UnauthorizedAccessException)
        {
            // the process is gone
        }
        return false;
    }
}
