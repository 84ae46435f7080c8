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
        (string Cert, string Key)? ssl = tls is null ? null : WriteCertificate(directory, tls);
        var config = Path.Combine(directory, "ngircd.conf");
        var motd = Path.Combine(directory, "motd");
        File.WriteAllText(motd, "failmail test server\n");
        var (process, ports) = await FreePort.StartOwnListenerAsync("ngircd", tls is null ? 1 : 2, ports =>
        {
            // Started as root, ngircd runs as nobody; it needs no file it cannot read then.
            var sslSection = ssl is null ? "" : $"[SSL]\nCertFile = {ssl.Value.Cert}\nKeyFile = {ssl.Value.Key}\nPorts = {ports[1]}\n";
            File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $"""
                [Global]
                Name = irc.failmail.test
                Info = failmail test server
                AdminInfo1 = failmail tests
                Listen = 127.0.0.1
                Ports = {ports[0]}
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
                {sslSection}
                """));
            var info = new ProcessStartInfo(Binary) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in new[] { "--nodaemon", "--config", config })
            {
                info.ArgumentList.Add(arg);
            }
            return info;
        });
        // Drain its log so a full pipe never blocks it.
        _ = process.StandardOutput.ReadToEndAsync();
        return new Ngircd(process, ports[0], tls is null ? 0 : ports[1]);
    }

    private static (string Cert, string Key) WriteCertificate(string directory, X509Certificate2 tls)
    {
        var certFile = Path.Combine(directory, "cert.pem");
        var keyFile = Path.Combine(directory, "key.pem");
        File.WriteAllText(certFile, tls.ExportCertificatePem() + "\n");
        using var key = tls.GetECDsaPrivateKey() ?? throw new InvalidOperationException("the certificate has no ECDSA key");
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem() + "\n");
        return (certFile, keyFile);
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
