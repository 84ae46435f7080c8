using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Failmail.Tests.EndToEnd;

// Debian's ngircd on a loopback port, with a generated config in its own directory: the real
// IRC server of the IRC output's tests. Like smtp-sink it binds its own port, so a taken port
// means another start (bounded), judged by ngircd's own listening socket. Dispose kills it by pid.
internal sealed class Ngircd : IAsyncDisposable
{
    private readonly Process _process;

    private Ngircd(Process process, int port, int tlsPort)
    {
        _process = process;
        Port = port;
        TlsPort = tlsPort;
    }

    public int Port { get; }

    // The TLS port when started with a certificate, else 0.
    public int TlsPort { get; }

    public int Pid => _process.Id;

    public static string Binary => File.Exists("/usr/sbin/ngircd") ? "/usr/sbin/ngircd" : throw new FileNotFoundException("ngircd is not installed; ./test.sh installs it");

    // tls: a certificate with its (ECDSA) key, served on a second port.
    public static async Task<Ngircd> StartAsync(string directory, X509Certificate2? tls = null)
    {
        Directory.CreateDirectory(directory);
        var stderr = "";
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var port = FreePort.Next();
            var tlsPort = tls is null ? 0 : FreePort.Next();
            var ssl = "";
            if (tls is not null)
            {
                var certFile = Path.Combine(directory, "cert.pem");
                var keyFile = Path.Combine(directory, "key.pem");
                File.WriteAllText(certFile, tls.ExportCertificatePem() + "\n");
                using var key = tls.GetECDsaPrivateKey() ?? throw new InvalidOperationException("the certificate has no ECDSA key");
                File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem() + "\n");
                ssl = $"[SSL]\nCertFile = {certFile}\nKeyFile = {keyFile}\nPorts = {tlsPort}\n";
            }
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
                {ssl}
                """));
            var info = new ProcessStartInfo(Binary) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in new[] { "--nodaemon", "--config", config })
            {
                info.ArgumentList.Add(arg);
            }
            var process = ChildProcesses.Start(info);
            // Drain its log so a full pipe never blocks it.
            _ = process.StandardOutput.ReadToEndAsync();
            if (await FreePort.WaitForOwnListenerAsync(process, port, TimeSpan.FromSeconds(10))
                && (tls is null || await FreePort.WaitForOwnListenerAsync(process, tlsPort, TimeSpan.FromSeconds(10))))
            {
                return new Ngircd(process, port, tlsPort);
            }
            if (!process.HasExited)
            {
                // Only the TLS port was taken: ngircd goes on without it, so stop it and try again.
                process.Kill();
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
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
