using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Failmail.Tests.Relay;

// Postfix's smtp-sink on 127.0.0.1, dumping each message into its own file (-d). Extra
// arguments script failures: -r CMD answers 4xx, -f CMD answers 5xx. Killed by pid on dispose.
internal sealed class SmtpSink : IDisposable
{
    private readonly Process _process;

    private SmtpSink(Process process, int port, string dumpDir)
    {
        _process = process;
        Port = port;
        DumpDir = dumpDir;
    }

    public int Port { get; }

    public string DumpDir { get; }

    public string Address => $"127.0.0.1:{Port}";

    public static async Task<SmtpSink> StartAsync(string dumpDir, int port = 0, params string[] options)
    {
        Directory.CreateDirectory(dumpDir);
        for (var attempt = 0; ; attempt++)
        {
            var chosen = port != 0 ? port : RelayTestKit.ClosedPort();
            var start = new ProcessStartInfo("/usr/sbin/smtp-sink") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var argument in (string[])["-u", "root", .. options, "-d", Path.Combine(dumpDir, "%M."), $"127.0.0.1:{chosen}", "100"])
            {
                start.ArgumentList.Add(argument);
            }
            var process = Process.Start(start) ?? throw new InvalidOperationException("smtp-sink did not start");
            if (await ListeningAsync(process, chosen))
            {
                return new SmtpSink(process, chosen, dumpDir);
            }
            Kill(process);
            if (attempt == 4)
            {
                throw new InvalidOperationException($"smtp-sink did not listen on port {chosen}");
            }
        }
    }

    // Dumped messages, oldest first: smtp-sink's own headers, then the message with LF ends.
    public string[] Dumps() =>
        Directory.GetFiles(DumpDir).OrderBy(File.GetLastWriteTimeUtc).Select(File.ReadAllText).ToArray();

    public void Dispose() => Kill(_process);

    private static void Kill(Process process)
    {
        try
        {
            process.Kill();
            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
        process.Dispose();
    }

    // The process needs a moment to bind; poll a bounded number of times.
    private static async Task<bool> ListeningAsync(Process process, int port)
    {
        for (var i = 0; i < 100 && !process.HasExited; i++)
        {
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TimeSpan.FromSeconds(10));
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(20);
            }
        }
        return false;
    }
}
