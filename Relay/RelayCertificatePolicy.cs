using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Failmail.Relay;

// Decides whether the relay's TLS certificate is acceptable, and says why not in plain words.
// In order of precedence:
// - --relay-insecure: anything is accepted (start-up logs a Warning).
// - --relay-fingerprint: the pin decides alone. A matching certificate is accepted even when
//   self-signed or issued for another name; any other certificate is rejected.
// - --relay-ca-file: the chain must end at a CA from that file, INSTEAD OF the system roots
//   (as Go's RootCAs and Postfix's smtp_tls_CAfile without tls_append_default_CA), and the
//   host name must match. A private relay CA then cannot be bypassed by any public CA.
// - default: system roots and the host name, as SslStream checked them.
// Revocation is never fetched (as Postfix and Go): a relay without Internet access would
// otherwise fail every handshake.
internal sealed class RelayCertificatePolicy : IDisposable
{
    private readonly bool _insecure;
    private readonly IReadOnlyList<byte[]> _pins;
    private readonly X509Certificate2Collection? _trustedCas;

    private RelayCertificatePolicy(bool insecure, IReadOnlyList<byte[]> pins, X509Certificate2Collection? trustedCas)
    {
        _insecure = insecure;
        _pins = pins;
        _trustedCas = trustedCas;
    }

    public bool Insecure => _insecure;

    // A pin or a CA file is a demand for an authenticated relay: STARTTLS stops being
    // optional, or a stripped STARTTLS would skip the check silently (Postfix's "fingerprint"
    // and "secure" levels make TLS mandatory for the same reason).
    public string? DemandingFlag => _pins.Count > 0 ? "--relay-fingerprint" : _trustedCas is not null ? "--relay-ca-file" : null;

    // How an accepted certificate was judged, in words (`failmail check --connect`).
    public string Verdict => _insecure ? "not checked (--relay-insecure)"
        : _pins.Count > 0 ? "matches the --relay-fingerprint pin"
        : _trustedCas is not null ? "verified against --relay-ca-file and the host name"
        : "verified against the system roots and the host name";

    // Reads --relay-ca-file once at start-up. Throws IOException naming the flag.
    public static RelayCertificatePolicy Load(FailmailOptions options) => Load(RelaySettings.From(options));

    public static RelayCertificatePolicy Load(RelaySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var cas = settings.CaFile.Length > 0 ? LoadCaFile(settings.CaFile) : null;
        return new RelayCertificatePolicy(settings.Insecure, settings.Pins, cas);
    }

    // null when acceptable, otherwise the reason ("certificate untrusted (...)").
    public string? Check(string host, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_insecure)
        {
            return null;
        }
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return "the relay sent no certificate";
        }
        if (_pins.Count > 0)
        {
            var actual = RelayFingerprint.Of(certificate);
            return _pins.Any(pin => CryptographicOperations.FixedTimeEquals(pin, actual))
                ? null
                : $"certificate does not match the pinned fingerprint (the relay's is {RelayFingerprint.Format(actual)})";
        }
        var reasons = new List<string>();
        if (_trustedCas is not null)
        {
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.AddRange(_trustedCas);
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            // The intermediates the relay sent along with its certificate.
            if (chain is not null)
            {
                foreach (var element in chain.ChainElements)
                {
                    custom.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }
            using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            if (!custom.Build(leaf))
            {
                reasons.Add($"certificate untrusted ({Describe(custom)}; trusted: --relay-ca-file)");
            }
        }
        else if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            reasons.Add($"certificate untrusted ({(chain is null ? "no chain" : Describe(chain))})");
        }
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            reasons.Add($"certificate is not valid for the host name {host}");
        }
        return reasons.Count == 0 ? null : string.Join("; ", reasons);
    }

    public void Dispose()
    {
        if (_trustedCas is not null)
        {
            foreach (var ca in _trustedCas)
            {
                ca.Dispose();
            }
        }
    }

    private static X509Certificate2Collection LoadCaFile(string path)
    {
        var cas = new X509Certificate2Collection();
        try
        {
            cas.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new IOException($"--relay-ca-file {path}: {Reason(e)}", e);
        }
        if (cas.Count == 0)
        {
            throw new IOException($"--relay-ca-file {path}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file");
        }
        return cas;
    }

    internal static string Reason(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "no such file",
        UnauthorizedAccessException => "permission denied",
        _ => e.Message,
    };

    // "PartialChain: unable to get local issuer certificate, NotTimeValid: ..."
    private static string Describe(X509Chain chain)
    {
        var statuses = chain.ChainStatus
            .Where(s => s.Status != X509ChainStatusFlags.NoError)
            .Select(s => string.IsNullOrWhiteSpace(s.StatusInformation) ? s.Status.ToString() : $"{s.Status}: {s.StatusInformation.Trim()}")
            .Distinct()
            .ToList();
        return statuses.Count == 0 ? "the chain could not be built" : string.Join(", ", statuses);
    }
}
