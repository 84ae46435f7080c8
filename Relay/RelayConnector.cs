using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Failmail.GoSyntax;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace Failmail.Relay;

// Opens one authenticated connection to --relay-addr for SmtpRelayTransport.
//
// TLS: the --relay-addr scheme picks the mode (RelayTlsMode): STARTTLS when offered (RFC
// 3207), STARTTLS required, implicit TLS on any port (RFC 8314), or none. The certificate is
// checked by RelayCertificatePolicy (system roots and host name by default; --relay-ca-file,
// --relay-fingerprint, --relay-insecure), which also words the reason of a rejection.
//
// AUTH (when a user or password is set): MailKit picks the strongest SASL mechanism both
// sides support, narrowed by --relay-auth-mechanisms. As Go's client did, credentials are
// refused on an unencrypted connection unless the relay is on loopback.
internal sealed class RelayConnector
{
    private readonly RelayAddress _address;
    private readonly RelayTlsMode _tls;
    private readonly string _tlsRequiredBy;
    private readonly RelayCredentials? _credentials;
    private readonly RelayCertificatePolicy _certificates;
    private readonly TimeSpan _timeout;

    // Why the certificate of the connection being opened was rejected, if it was.
    private string? _certificateFailure;

    // What the relay showed on the last connection, for `failmail check --connect`
    // (RelayProbe): its certificate (a copy) and the AUTH mechanisms its EHLO offered,
    // before --relay-auth-mechanisms narrowed them.
    // Kept only when KeepsCertificate is set (the daemon needs no copy).
    public X509Certificate2? LastCertificate { get; private set; }

    public bool KeepsCertificate { get; init; }

    public IReadOnlyList<string> LastOfferedMechanisms { get; private set; } = [];

    public RelayCertificatePolicy Certificates => _certificates;

    public RelayConnector(RelayAddress address, RelayCredentials? credentials, RelayCertificatePolicy certificates, TimeSpan timeout)
    {
        _address = address;
        _credentials = credentials;
        _certificates = certificates;
        _timeout = timeout;
        _tls = address.Tls;
        _tlsRequiredBy = address.Url;
        if (_tls == RelayTlsMode.StartTlsWhenOffered && certificates.DemandingFlag is { } flag)
        {
            _tls = RelayTlsMode.StartTlsRequired;
            _tlsRequiredBy = $"{flag} (for {address.Url})";
        }
    }

    // A connected (and, with credentials, authenticated) client; throws RelayException, or
    // OperationCanceledException when the caller's token was cancelled.
    public async ValueTask<SmtpClient> OpenAsync(CancellationToken cancellationToken)
    {
        var client = new SmtpClient
        {
            // Bounds every read and write: greeting, each command, DATA (RFC 5321 §4.5.3.2).
            Timeout = (int)Math.Clamp(_timeout.TotalMilliseconds, 1, int.MaxValue),
            // As Postfix and Go's client: verify chain and name, but fetch no CRL/OCSP. A relay
            // on a network without Internet access would otherwise fail every TLS handshake.
            CheckCertificateRevocation = false,
            ServerCertificateValidationCallback = ValidateCertificate,
        };
        _certificateFailure = null;
        LastOfferedMechanisms = [];
        try
        {
            await ConnectAsync(client, cancellationToken).ConfigureAwait(false);
            LastOfferedMechanisms = [.. client.AuthenticationMechanisms];
            if (_credentials is not null)
            {
                await AuthenticateAsync(client, _credentials, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (SslHandshakeException e) when (_certificateFailure is null && _tls == RelayTlsMode.Implicit)
        {
            // Most often a port that speaks plain SMTP (25, 587) under smtps://.
            client.Dispose();
            throw new RelayException(RelayFailureKind.ConnectionTransient,
                $"TLS with the relay failed: {RelayErrorClassifier.OneLine(e.InnerException?.Message ?? e.Message)} (does {_address} speak implicit TLS? smtp+starttls:// is for STARTTLS)", e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            client.Dispose();
            throw RelayErrorClassifier.Classify(e, aboutMessage: false, _certificateFailure);
        }
        catch (OperationCanceledException)
        {
            client.Dispose();
            throw;
        }
        return client;
    }

    private async Task ConnectAsync(SmtpClient client, CancellationToken cancellationToken)
    {
        var secure = _tls switch
        {
            RelayTlsMode.StartTlsRequired => SecureSocketOptions.StartTls,
            RelayTlsMode.Implicit => SecureSocketOptions.SslOnConnect,
            RelayTlsMode.None => SecureSocketOptions.None,
            _ => SecureSocketOptions.StartTlsWhenAvailable,
        };
        using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // SmtpClient.Timeout does not cover the TCP connect itself.
        connect.CancelAfter(_timeout);
        try
        {
            await client.ConnectAsync(await OpenSocketAsync(connect.Token).ConfigureAwait(false), _address.Host, _address.Port, secure, connect.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RelayException(RelayFailureKind.ConnectionTransient, $"connecting to {_address.Url} timed out after {GoDuration.Format(_timeout)}", e);
        }
        catch (NotSupportedException e) when (_tls == RelayTlsMode.StartTlsRequired)
        {
            // MailKit's words for an EHLO reply without STARTTLS under SecureSocketOptions.StartTls.
            // Not the message's fault: the worker backs off and the queue keeps every digest.
            throw new RelayException(RelayFailureKind.ConnectionTransient, $"STARTTLS not offered while required by {_tlsRequiredBy}", e);
        }
    }

    // Our own socket, for TCP_NODELAY: MailKit writes the end of DATA (and each pipelined
    // command) as a small segment after a large one, which Nagle holds until the relay's
    // delayed ACK, 40 ms on Linux, per digest. A burst of digests queued behind one connection
    // paid that for each (issue 13's deadline-to-relay figure).
    private async Task<System.Net.Sockets.Socket> OpenSocketAsync(CancellationToken cancellationToken)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_address.Host, _address.Port, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task AuthenticateAsync(SmtpClient client, RelayCredentials credentials, CancellationToken cancellationToken)
    {
        if (!client.IsSecure && !_address.IsLoopback)
        {
            var why = _tls == RelayTlsMode.None ? "smtp+plain:// never uses TLS" : "the relay offers no STARTTLS";
            throw new RelayException(RelayFailureKind.ConnectionTransient,
                $"refusing to send credentials unencrypted to {_address.Url}: {why}");
        }
        var offered = client.AuthenticationMechanisms;
        if (offered.Count == 0)
        {
            throw new RelayException(RelayFailureKind.ConnectionTransient, $"relay {_address.Url} offers no authentication (no AUTH in its EHLO reply)");
        }
        var offeredText = string.Join(",", offered);
        if (credentials.Mechanisms is { } allowed)
        {
            // MailKit tries only what is left in this set (its documented way to exclude some).
            _ = offered.RemoveWhere(m => !allowed.Contains(m, StringComparer.OrdinalIgnoreCase));
        }
        if (!RelayCredentials.AnyUsable(offered))
        {
            var ours = string.Join(",", credentials.Mechanisms ?? RelayCredentials.Supported);
            throw new RelayException(RelayFailureKind.ConnectionTransient,
                $"no common authentication mechanism (server offers {offeredText}, allowed {ours})");
        }
        await client.AuthenticateAsync(credentials.User, credentials.Password, cancellationToken).ConfigureAwait(false);
    }

    // MailKit calls this for every handshake; the verdict and its reason are kept so that
    // the SslHandshakeException that follows can be reported with the real cause.
    private bool ValidateCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        _certificateFailure = _certificates.Check(_address.Host, certificate, chain, errors);
        if (KeepsCertificate)
        {
            LastCertificate?.Dispose();
            LastCertificate = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        }
        return _certificateFailure is null;
    }
}
