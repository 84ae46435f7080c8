using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailKit.Net.Smtp;

namespace Failmail.Relay;

// `failmail check --connect`: opens one connection to each relay of the --relay-addr list
// exactly as the daemon does (RelayConnector: the TLS mode, the certificate policy, AUTH with
// the configured credentials), reports what it saw, and says QUIT. Nothing is sent.
internal static class RelayProbe
{
    public static async Task<IReadOnlyList<RelayProbeResult>> ProbeAsync(RelaySettings settings, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // The same files the daemon reads (their problems are reported by the settings check).
        var credentials = RelayCredentials.Load(settings);
        using var certificates = RelayCertificatePolicy.Load(settings);
        var results = new List<RelayProbeResult>();
        foreach (var address in settings.Addresses)
        {
            results.Add(await ProbeAsync(address, credentials, certificates, settings.Timeout, time, cancellationToken).ConfigureAwait(false));
        }
        return results;
    }

    private static async Task<RelayProbeResult> ProbeAsync(RelayAddress address, RelayCredentials? credentials, RelayCertificatePolicy certificates,
        TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var connector = new RelayConnector(address, credentials, certificates, timeout) { KeepsCertificate = true };
        var facts = new List<string>();
        string? problem = null;
        try
        {
            using var client = await connector.OpenAsync(cancellationToken).ConfigureAwait(false);
            facts.Add(client.IsSecure ? $"TLS: {Protocol(client.SslProtocol)}{Cipher(client)} ({(address.Tls == RelayTlsMode.Implicit ? "implicit" : "STARTTLS")})"
                : address.Tls == RelayTlsMode.None ? "TLS: none (smtp+plain://)" : "TLS: none (the relay offers no STARTTLS)");
            AddCertificate(facts, connector, time);
            if (client.IsSecure)
            {
                facts.Add($"certificate check: {connector.Certificates.Verdict}");
            }
            facts.Add(Mechanisms(connector.LastOfferedMechanisms));
            if (credentials is not null)
            {
                facts.Add($"AUTH as {credentials.User}: accepted");
            }
            if ((client.Capabilities & SmtpCapabilities.Size) != 0 && client.MaxSize > 0)
            {
                facts.Add(string.Create(CultureInfo.InvariantCulture, $"SIZE: {client.MaxSize} bytes"));
            }
            await QuitAsync(client, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (RelayException e)
        {
            problem = e.Message;
            AddCertificate(facts, connector, time);
            if (connector.LastOfferedMechanisms.Count > 0)
            {
                facts.Add(Mechanisms(connector.LastOfferedMechanisms));
            }
        }
        finally
        {
            connector.LastCertificate?.Dispose();
        }
        return new RelayProbeResult(address.Url, facts, problem);
    }

    private static void AddCertificate(List<string> facts, RelayConnector connector, TimeProvider time)
    {
        if (connector.LastCertificate is not { } certificate)
        {
            return;
        }
        var now = time.GetUtcNow();
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        var days = (int)Math.Floor((notAfter - now).TotalDays);
        var expiry = notAfter < now ? $"EXPIRED on {notAfter:yyyy-MM-dd HH:mm:ss}Z" : $"expires {notAfter:yyyy-MM-dd HH:mm:ss}Z (in {days} days)";
        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames().Concat(e.EnumerateIPAddresses().Select(ip => ip.ToString())));
        var san = string.Join(", ", names);
        facts.Add(string.Create(CultureInfo.InvariantCulture,
            $"certificate: subject {certificate.Subject}{(san.Length > 0 ? $" (SAN {san})" : "")}, issuer {certificate.Issuer}, {expiry}, SHA-256 {Convert.ToHexString(SHA256.HashData(certificate.RawData))}"));
    }

    private static string Mechanisms(IReadOnlyList<string> offered) =>
        offered.Count == 0 ? "AUTH offered: none" : $"AUTH offered: {string.Join(' ', offered)}";

    private static string Protocol(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLS 1.3",
        SslProtocols.Tls12 => "TLS 1.2",
        _ => protocol.ToString(),
    };

    private static string Cipher(SmtpClient client) => client.SslCipherSuite is { } suite ? $", {suite}" : "";

    private static async Task QuitAsync(SmtpClient client, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            await client.DisconnectAsync(quit: true, bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SmtpProtocolException or SmtpCommandException or OperationCanceledException or SocketException)
        {
            // QUIT is a courtesy.
        }
    }
}
