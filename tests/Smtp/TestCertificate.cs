using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Failmail.Tests.Smtp;

// A self-signed certificate for localhost, written as PEM files into a temp dir that is
// deleted on dispose.
internal sealed class TestCertificate : IDisposable
{
    public TestCertificate()
    {
        Directory = Path.Combine(Path.GetTempPath(), "failmail-tls-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddDnsName("mx.test");
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        CertPath = Path.Combine(Directory, "cert.pem");
        KeyPath = Path.Combine(Directory, "key.pem");
        File.WriteAllText(CertPath, certificate.ExportCertificatePem());
        File.WriteAllText(KeyPath, key.ExportPkcs8PrivateKeyPem());
    }

    public string Directory { get; }
    public string CertPath { get; }
    public string KeyPath { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
