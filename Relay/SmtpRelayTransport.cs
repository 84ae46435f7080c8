using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Failmail.Relay;

// The SMTP upstream: MailKit's SmtpClient to --relay-addr. One client, used by the single
// relay worker only (it handles one operation at a time). The connection is opened on the
// first send and kept for the burst; after an idle gap it is checked with NOOP first.
//
// TLS: STARTTLS whenever the relay offers it (RFC 3207), and the certificate is verified
// (MailKit's default callback: system roots, host name). A self-signed relay therefore fails
// with an SslHandshakeException that says why; the internal callback parameter lets tests
// trust their own CA until --relay-ca lands.
//
// AUTH (when --relay-user or --relay-password is set): MailKit picks the best mechanism
// the relay offers (PLAIN, LOGIN, ...). As Go's client did, credentials are refused on an
// unencrypted connection unless the relay is on loopback.
//
// Bytes: the queued message is loaded with MimeKit, which writes an unmodified parsed message
// back byte for byte. MailKit withholds Bcc, Resent-Bcc and Content-Length headers when
// sending, and downgrades 8bit parts to a 7bit encoding if the relay lacks 8BITMIME.
internal sealed class SmtpRelayTransport : IRelayTransport
{
    // Reuse a connection idle longer than this only after a NOOP proves it still works.
    private static readonly TimeSpan NoOpAfter = TimeSpan.FromSeconds(2);

    private readonly RelayAddress _address;
    private readonly string _user;
    private readonly string _password;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly RemoteCertificateValidationCallback? _certificateValidation;
    private SmtpClient? _client;
    private long _lastUsed;

    public SmtpRelayTransport(FailmailOptions options, TimeProvider timeProvider)
        : this(options, timeProvider, certificateValidation: null)
    {
    }

    internal SmtpRelayTransport(FailmailOptions options, TimeProvider timeProvider, RemoteCertificateValidationCallback? certificateValidation)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!RelayAddress.TryParse(options.RelayAddr, out _address, out var error))
        {
            throw new ArgumentException(error, nameof(options));
        }
        _user = options.RelayUser;
        _password = options.RelayPassword;
        _timeout = options.RelayTimeout;
        _time = timeProvider;
        _certificateValidation = certificateValidation;
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

    public ValueTask DisposeAsync() => DisconnectAsync(CancellationToken.None);

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
        };
        if (_certificateValidation is not null)
        {
            client.ServerCertificateValidationCallback = _certificateValidation;
        }
        try
        {
            using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                // SmtpClient.Timeout does not cover the TCP connect itself.
                connect.CancelAfter(_timeout);
                try
                {
                    await client.ConnectAsync(_address.Host, _address.Port, SecureSocketOptions.StartTlsWhenAvailable, connect.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new RelayException(RelayFailureKind.ConnectionTransient, $"connect to {_address} timed out after {_timeout}", e);
                }
            }
            if (_user.Length > 0 || _password.Length > 0)
            {
                if (!client.IsSecure && !IsLoopback(_address.Host))
                {
                    throw new RelayException(RelayFailureKind.ConnectionTransient,
                        $"relay {_address} offers no STARTTLS: refusing to send credentials unencrypted");
                }
                await client.AuthenticateAsync(_user, _password, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            client.Dispose();
            throw Classify(e, aboutMessage: false);
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

    // After a broken stream there is nobody to say QUIT to.
    private void Drop()
    {
        _client?.Dispose();
        _client = null;
    }

    private static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    // MailKit's split: SmtpCommandException = the server said no (its status decides);
    // SmtpProtocolException, IOException, SocketException, TLS = the stream is broken.
    // aboutMessage: the reply came during the transaction (MAIL, RCPT, DATA, end of data),
    // not while connecting, greeting, EHLO or AUTH, which concern the relay, not the message.
    internal static RelayException Classify(Exception e, bool aboutMessage)
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
            case AuthenticationException:
                return new RelayException(RelayFailureKind.ConnectionTransient, $"relay AUTH failed: {OneLine(e.Message)}", e);
            case SslHandshakeException:
                return new RelayException(RelayFailureKind.ConnectionTransient, $"TLS with the relay failed: {OneLine(e.Message)}", e);
            default:
                // SmtpProtocolException, IOException, SocketException, TimeoutException,
                // NotSupportedException (no AUTH offered): reconnect later.
                return new RelayException(RelayFailureKind.ConnectionTransient, $"relay connection failed: {e.GetType().Name}: {OneLine(e.Message)}", e);
        }
    }

    // MailKit's TLS errors span several lines; the log has one line per event.
    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
