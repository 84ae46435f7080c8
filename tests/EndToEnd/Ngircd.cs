using System.Diagnostics;
using System.Globalization;

namespace Failmail.Tests.EndToEnd;

// Debian's ngircd on a loopback port, with a generated config in its own directory: the real
// IRC server of the IRC output's tests. Like smtp-sink it binds its own port, so a taken port
// means another start (bounded), judged by ngircd's own listening socket. Dispose kills it by pid.
internal sealed class Ngircd : IAsyncDisposable
{
    private readonly Process _process;

    private Ngircd(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public int Pid => _process.Id;

    public static string Binary => File.Exists("/usr/sbin/ngircd") ? "/usr/sbin/ngircd" : throw new FileNotFoundException("ngircd is not installed; ./test.sh installs it");

    public static async Task<Ngircd> StartAsync(string directory)
    {
        Directory.CreateDirectory(directory);
        var stderr = "";
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var port = FreePort.Next();
            var config = Path.Combine(directory, "ngircd.conf");
            var motd = Path.Combine(directory, "motd");
            File.WriteAllText(motd, "failmail test server\n");
            // Started as root, ngircd runs as nobody; it needs no file it cannot read then.
            File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $"""
                [Global]
                Name = irc.failmail.test
                Info = failmail test server
                AdminInfo1 = failmail tests
                Listen = 127.0.0.1
                Ports = {port}
                MotdFile = {motd}
                [Limits]
                PingTimeout = 120
                PongTimeout = 20
                MaxConnectionsIP = 0
                [Operator]
                Name = failmail-oper
                Password = failmail-oper-password
                [Options]
                PAM = no
                Ident = no
                DNS = no
                """));
            var info = new ProcessStartInfo(Binary) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in new[] { "--nodaemon", "--config", config })
            {
                info.ArgumentList.Add(arg);
            }
            var process = ChildProcesses.Start(info);
            // Drain its log so a full pipe never blocks it.
            _ = process.StandardOutput.ReadToEndAsync();
            if (await FreePort.WaitForOwnListenerAsync(process, port, TimeSpan.FromSeconds(10)))
            {
                return new Ngircd(process, port);
            }
            stderr = await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
            process.Dispose();
        }
        throw new InvalidOperationException("ngircd did not start listening in 5 attempts; last stderr:\n" + stderr);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        finally
        {
            _process.Dispose();
        }
    }
}
