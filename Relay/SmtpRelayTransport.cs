using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Failmail.Config;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Failmail.Relay;

// The SMTP upstream: MailKit's SmtpClient to --relay-addr. One client, used by the single
// relay worker only (it handles one operation at a time). The connection is opened on the
// first send and kept for the burst; after an idle gap it is checked with NOOP first.
//
// TLS: the --relay-addr scheme picks the mode (RelayTlsMode): STARTTLS when offered (RFC
// 3207), STARTTLS required, implicit TLS on any port (RFC 8314), or none. The certificate is
// checked by RelayCertificatePolicy (system roots and host name by default; --relay-ca-file,
// --relay-fingerprint, --relay-insecure), which also words the reason of a rejection.
//
// AUTH (when a user or password is set): MailKit picks the strongest SASL mechanism both
// sides support, narrowed by --relay-auth-mechanisms. As Go's client did, credentials are
// refused on an unencrypted connection unless the relay is on loopback.
//
// Every failure becomes a RelayException whose message names the cause in plain words
// ("connection refused", "timed out", "certificate untrusted (...)", "authentication
// rejected: 535 ...", ...): the worker logs exactly that message.
//
// Bytes: the queued message is loaded with MimeKit, which writes an unmodified parsed message
// back byte for byte. MailKit withholds Bcc, Resent-Bcc and Content-Length headers when
// sending, and downgrades 8bit parts to a 7bit encoding if the relay lacks 8BITMIME.
internal sealed class SmtpRelayTransport : IRelayTransport
{
    // Reuse a connection idle longer than this only after a NOOP proves it still works.
    private static readonly TimeSpan NoOpAfter = TimeSpan.FromSeconds(2);

    private readonly RelayAddress _address;
    private readonly RelayTlsMode _tls;
    private readonly string _tlsRequiredBy;
    private readonly RelayCredentials? _credentials;
    private readonly RelayCertificatePolicy _certificates;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private SmtpClient? _client;
    private long _lastUsed;

    // Why the certificate of the connection being opened was rejected, if it was.
    private string? _certificateFailure;

    // Reads --relay-password-file and --relay-ca-file: throws ArgumentException or IOException
    // naming the flag, which the host reports as a start-up error.
    public SmtpRelayTransport(FailmailOptions options, TimeProvider timeProvider, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!RelayAddress.TryParse(options.RelayAddr, out _address, out var error))
        {
            throw new ArgumentException(error, nameof(options));
        }
        _credentials = RelayCredentials.Load(options);
        _certificates = RelayCertificatePolicy.Load(options);
        _tls = _address.Tls;
        _tlsRequiredBy = _address.Url;
        if (_tls == RelayTlsMode.StartTlsWhenOffered && _certificates.DemandingFlag is { } flag)
        {
            _tls = RelayTlsMode.StartTlsRequired;
            _tlsRequiredBy = $"{flag} (for {_address.Url})";
        }
        _timeout = options.RelayTimeout;
        _time = timeProvider;
        if (_certificates.Insecure && logger is not null)
        {
            RelayLog.InsecureTls(logger, _address.Url);
        }
    }

    public RelayAddress Address => _address;

    public async ValueTask SendAsync(MimeMessage message, string from, IReadOnlyList<string> recipients, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(recipients);
        MailboxAddress sender;
        List<MailboxAddress> to;
        try
        {
            // The empty address is the null sender, MAIL FROM:<> (RFC 5321 §4.5.5).
            sender = new MailboxAddress("", from);
            to = recipients.Select(r => new MailboxAddress("", r)).ToList();
        }
        catch (ParseException e)
        {
            throw new RelayException(RelayFailureKind.Permanent, $"invalid envelope address: {OneLine(e.Message)}", e);
        }
        if (to.Count == 0)
        {
            throw new RelayException(RelayFailureKind.Permanent, "no recipients");
        }

        var client = await ConnectedClientAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _ = await client.SendAsync(message, sender, to, cancellationToken).ConfigureAwait(false);
            _lastUsed = _time.GetTimestamp();
        }
        catch (SmtpCommandException e)
        {
            // The relay said no. It stays usable unless it also closed (421).
            _lastUsed = _time.GetTimestamp();
            if (!client.IsConnected)
            {
                Drop();
            }
            throw Classify(e, aboutMessage: true);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Drop();
            throw Classify(e, aboutMessage: false);
        }
        catch (OperationCanceledException)
        {
            Drop();
            throw;
        }
    }

    public async ValueTask DisconnectAsync(CancellationToken cancellationToken)
    {
        if (_client is not { } client)
        {
            return;
        }
        _client = null;
        try
        {
            if (client.IsConnected)
            {
                using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                bounded.CancelAfter(_timeout);
                await client.DisconnectAsync(quit: true, bounded.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SmtpProtocolException or SmtpCommandException or OperationCanceledException or SocketException)
        {
            // QUIT is a courtesy; a relay that is already gone has nothing more to say.
        }
        finally
        {
            client.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DisconnectAsync(CancellationToken.None).ConfigureAwait(false);
        _certificates.Dispose();
    }

    private async ValueTask<SmtpClient> ConnectedClientAsync(CancellationToken cancellationToken)
    {
        if (_client is { IsConnected: true } existing)
        {
            if (_time.GetElapsedTime(_lastUsed) < NoOpAfter)
            {
                return existing;
            }
            try
            {
                await existing.NoOpAsync(cancellationToken).ConfigureAwait(false);
                _lastUsed = _time.GetTimestamp();
                return existing;
            }
            catch (Exception e) when (e is IOException or SmtpProtocolException or SmtpCommandException or SocketException)
            {
                // The relay closed the idle connection; open a fresh one below.
            }
        }
        Drop();

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
        try
        {
            await ConnectAsync(client, cancellationToken).ConfigureAwait(false);
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
                $"TLS with the relay failed: {OneLine(e.InnerException?.Message ?? e.Message)} (does {_address} speak implicit TLS? smtp+starttls:// is for STARTTLS)", e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            client.Dispose();
            throw Classify(e, aboutMessage: false, _certificateFailure);
        }
        catch (OperationCanceledException)
        {
            client.Dispose();
            throw;
        }
        _client = client;
        _lastUsed = _time.GetTimestamp();
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
            await client.ConnectAsync(_address.Host, _address.Port, secure, connect.Token).ConfigureAwait(false);
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
        return _certificateFailure is null;
    }

    // After a broken stream there is nobody to say QUIT to.
    private void Drop()
    {
        _client?.Dispose();
        _client = null;
    }

    // MailKit's split: SmtpCommandException = the server said no (its status decides);
    // SmtpProtocolException, IOException, SocketException, TLS = the stream is broken.
    // aboutMessage: the reply came during the transaction (MAIL, RCPT, DATA, end of data),
    // not while connecting, greeting, EHLO or AUTH, which concern the relay, not the message.
    // certificateFailure: why our certificate check said no, if it did.
    internal static RelayException Classify(Exception e, bool aboutMessage, string? certificateFailure = null)
    {
        switch (e)
        {
            case RelayException relay:
                return relay;
            case SmtpCommandException command:
                var code = (int)command.StatusCode;
                var text = $"{code} {OneLine(command.Message)}";
                // A 421 means the relay is closing: the connection failed, not the message.
                if (!aboutMessage || code == 421)
                {
                    return new RelayException(RelayFailureKind.ConnectionTransient, $"relay replied {text}", e);
                }
                return code >= 500
                    ? new RelayException(RelayFailureKind.Permanent, $"relay rejected the message: {text}", e)
                    : new RelayException(RelayFailureKind.MessageTransient, $"relay deferred the message: {text}", e);
            case AuthenticationException { InnerException: SmtpCommandException reply }:
                return new RelayException(RelayFailureKind.ConnectionTransient,
                    $"authentication rejected: {(int)reply.StatusCode} {OneLine(reply.Message)}", e);
            case AuthenticationException:
                return new RelayException(RelayFailureKind.ConnectionTransient, $"authentication rejected: {OneLine(e.Message)}", e);
            case SslHandshakeException when certificateFailure is not null:
                return new RelayException(RelayFailureKind.ConnectionTransient, $"TLS with the relay failed: {certificateFailure}", e);
            case SslHandshakeException:
                // Not the certificate: no common protocol or cipher, or a relay that does not
                // speak TLS on this port (smtps:// to a plain SMTP port).
                return new RelayException(RelayFailureKind.ConnectionTransient,
                    $"TLS with the relay failed: {OneLine(e.InnerException?.Message ?? e.Message)}", e);
            case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                return new RelayException(RelayFailureKind.ConnectionTransient, "relay connection failed: connection refused", e);
            case SocketException { SocketErrorCode: SocketError.TimedOut }:
            case TimeoutException:
            case IOException { InnerException: SocketException { SocketErrorCode: SocketError.TimedOut } }:
                return new RelayException(RelayFailureKind.ConnectionTransient, $"relay connection failed: timed out ({OneLine(e.Message)})", e);
            case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData } socket:
                return new RelayException(RelayFailureKind.ConnectionTransient, $"relay connection failed: host name not found ({OneLine(socket.Message)})", e);
            default:
                // SmtpProtocolException, IOException, SocketException, NotSupportedException:
                // reconnect later.
                return new RelayException(RelayFailureKind.ConnectionTransient, $"relay connection failed: {e.GetType().Name}: {OneLine(e.Message)}", e);
        }
    }

    // MailKit's TLS errors span several lines; the log has one line per event.
    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
