using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Failmail.Relay;

namespace Failmail.Tests.Relay;

// Certificates generated for each test: a test CA, a server certificate it signs for
// 127.0.0.1 and localhost, one it signs for another host only, and a self-signed one for
// 127.0.0.1 and localhost. Nothing here is in the system trust store.
internal sealed class TestCertificates : IDisposable
{
    private static readonly DateTimeOffset NotBefore = DateTimeOffset.UtcNow.AddDays(-1);
    private static readonly DateTimeOffset NotAfter = DateTimeOffset.UtcNow.AddDays(1);

    public TestCertificates()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=failmail test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        Ca = caRequest.CreateSelfSigned(NotBefore, NotAfter);

        Server = Leaf("CN=localhost", ["localhost"], [IPAddress.Loopback], Ca);
        WrongHost = Leaf("CN=relay.example.net", ["relay.example.net"], [], Ca);
        SelfSigned = Leaf("CN=localhost", ["localhost"], [IPAddress.Loopback], issuer: null);
    }

    public X509Certificate2 Ca { get; }

    // Signed by Ca, valid for 127.0.0.1 and localhost.
    public X509Certificate2 Server { get; }

    // Signed by Ca, valid only for relay.example.net.
    public X509Certificate2 WrongHost { get; }

    // Its own issuer, valid for 127.0.0.1 and localhost.
    public X509Certificate2 SelfSigned { get; }

    // The CA as a PEM file, for --relay-ca-file.
    public string WriteCaFile(string directory)
    {
        var path = Path.Combine(directory, "relay-ca.pem");
        File.WriteAllText(path, Ca.ExportCertificatePem() + "\n");
        return path;
    }

    // As `openssl x509 -noout -fingerprint -sha256` prints it: AB:CD:...
    public static string Fingerprint(X509Certificate2 certificate) => RelayFingerprint.Format(RelayFingerprint.Of(certificate));

    public void Dispose()
    {
        Ca.Dispose();
        Server.Dispose();
        WrongHost.Dispose();
        SelfSigned.Dispose();
    }

    private static X509Certificate2 Leaf(string subject, string[] dnsNames, IPAddress[] addresses, X509Certificate2? issuer)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var name in dnsNames)
        {
            names.AddDnsName(name);
        }
        foreach (var address in addresses)
        {
            names.AddIpAddress(address);
        }
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        X509Certificate2 withKey;
        if (issuer is null)
        {
            withKey = request.CreateSelfSigned(NotBefore, NotAfter);
        }
        else
        {
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
            using var signed = request.Create(issuer, NotBefore, NotAfter, RandomNumberGenerator.GetBytes(16));
            withKey = signed.CopyWithPrivateKey(key);
        }
        using (withKey)
        {
            // Round-trip through PKCS#12 so SslStream gets a key it can use on every platform.
            return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pfx), null);
        }
    }
}
