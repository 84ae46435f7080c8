using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Failmail.Smtp;

// Loads --tls-cert/--tls-key (PEM) once at start-up.
internal static class SmtpTls
{
    // Throws IOException naming both flags, so a bad file is one clear start-up line
    // (.NET's own messages name neither the flag nor, for a directory, the file).
    public static SslStreamCertificateContext Load(string certPath, string keyPath)
    {
        try
        {
            return LoadPem(certPath, keyPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            var reason = e switch
            {
                FileNotFoundException or DirectoryNotFoundException => "no such file",
                UnauthorizedAccessException when Directory.Exists(certPath) || Directory.Exists(keyPath) => "is a directory",
                UnauthorizedAccessException => "permission denied",
                _ => e.Message,
            };
            throw new IOException($"--tls-cert {certPath} / --tls-key {keyPath}: cannot load the certificate and key: {reason}", e);
        }
    }

    private static SslStreamCertificateContext LoadPem(string certPath, string keyPath)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        // A PEM key is ephemeral; the PKCS#12 round trip gives SslStream a key it can use
        // on every platform (on Windows an ephemeral key fails the handshake).
        var leaf = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        // The rest of the cert file is the chain the server sends after its own certificate.
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(certPath);
        var intermediates = new X509Certificate2Collection();
        foreach (var certificate in all)
        {
            if (certificate.Thumbprint != leaf.Thumbprint)
            {
                intermediates.Add(certificate);
            }
            else
            {
                certificate.Dispose();
            }
        }
        return SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
    }
}
