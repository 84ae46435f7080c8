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

    // Starts a server that binds its own ports (smtp-sink, ngircd) on ports free a moment ago,
    // and returns it once it listens on every one of them. A port another process took first
    // means the server exits (or never listens there): it is stopped and started again on
    // other ports, at most `attempts` times. fixedPorts: the ports to use instead (a restart on
    // the same port); the last attempt's stderr is in the exception.
    public static async Task<(Process Process, int[] Ports)> StartOwnListenerAsync(string name, int portCount, Func<int[], ProcessStartInfo> info,
        int[]? fixedPorts = null, int attempts = 5)
    {
        ArgumentNullException.ThrowIfNull(info);
        var stderr = "";
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            var ports = fixedPorts ?? Enumerable.Range(0, portCount).Select(_ => Next()).ToArray();
            var process = ChildProcesses.Start(info(ports));
            try
            {
                var listening = true;
                foreach (var port in ports)
                {
                    listening = listening && await WaitForOwnListenerAsync(process, port, TimeSpan.FromSeconds(10));
                }
                if (listening)
                {
                    return (process, ports);
                }
                if (!process.HasExited)
                {
                    // Listening on some ports only (one was taken): stop it and try again.
                    process.Kill();
                    await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                }
                stderr = await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
                process.Dispose();
            }
            catch
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    process.WaitForExit(10_000);
                }
                process.Dispose();
                throw;
            }
        }
        throw new InvalidOperationException($"{name} did not start listening in {attempts} attempts; last stderr:\n{stderr}");
    }
}
