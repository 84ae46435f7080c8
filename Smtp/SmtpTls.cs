using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Failmail.Smtp;

// Checks and loads --tls-cert/--tls-key (PEM) once at start-up.
internal static class SmtpTls
{
    // The TLS settings' rules, in one place (OptionsValidator reports them; the listener
    // refuses to start on the first). One line per problem, flag first.
    public static IReadOnlyList<string> Problems(FailmailOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if ((options.TlsCert.Length > 0) != (options.TlsKey.Length > 0))
        {
            problems.Add(options.TlsCert.Length > 0
                ? "--tls-cert: needs --tls-key as well"
                : "--tls-key: needs --tls-cert as well");
        }
        // failmail silently served plain text here; a client expecting TLS would send its
        // credentials in the clear, so we refuse to start instead.
        if (options.Ssl && (options.TlsCert.Length == 0 || options.TlsKey.Length == 0))
        {
            problems.Add("--ssl: needs --tls-cert and --tls-key");
        }
        return problems;
    }

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
