using System.Net.Sockets;
using Failmail.Addresses;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Failmail.Relay;

// The SMTP upstream: MailKit's SmtpClient to --relay-addr. One client, used by the single
// relay worker only (it handles one operation at a time). The connection is opened on the
// first send (RelayConnector: TLS, certificate check, AUTH) and kept for the burst; after an
// idle gap it is checked with NOOP first.
//
// Every failure becomes a RelayException whose message names the cause in plain words
// (RelayErrorClassifier): the worker logs exactly that message.
//
// Bytes: the queued message is loaded with MimeKit, which writes an unmodified parsed message
// back byte for byte. MailKit withholds Bcc, Resent-Bcc and Content-Length headers when
// sending, and downgrades 8bit parts to a 7bit encoding if the relay lacks 8BITMIME.
internal sealed class SmtpRelayTransport : IRelayTransport
{
    // Reuse a connection idle longer than this only after a NOOP proves it still works.
    private static readonly TimeSpan NoOpAfter = TimeSpan.FromSeconds(2);

    private readonly RelayAddress _address;
    private readonly RelayCertificatePolicy _certificates;
    private readonly RelayConnector _connector;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly Action<long>? _maxSizeObserved;
    private readonly bool _ownsCertificates;
    private SmtpClient? _client;
    private long _lastUsed;

    // Reads --relay-password-file and --relay-ca-file: throws ArgumentException or IOException
    // naming the flag, which the host reports as a start-up error.
    public SmtpRelayTransport(FailmailOptions options, TimeProvider timeProvider, ILogger? logger = null, Action<long>? maxSizeObserved = null)
        : this(RelaySettings.From(options), timeProvider, logger, maxSizeObserved)
    {
    }

    // The first relay of the list, with its own credentials and certificate policy.
    // maxSizeObserved: told the relay's SIZE after each connect (0: none advertised).
    public SmtpRelayTransport(RelaySettings settings, TimeProvider timeProvider, ILogger? logger = null, Action<long>? maxSizeObserved = null)
        : this(FirstAddress(settings), settings.Timeout, RelayCredentials.Load(settings), RelayCertificatePolicy.Load(settings), ownsCertificates: true,
            timeProvider, logger, maxSizeObserved)
    {
    }

    // One relay of a failover list: the credentials and certificate policy are the list's,
    // loaded once; ownsCertificates says whether this transport disposes the policy.
    public SmtpRelayTransport(RelayAddress address, TimeSpan timeout, RelayCredentials? credentials, RelayCertificatePolicy certificates, bool ownsCertificates,
        TimeProvider timeProvider, ILogger? logger = null, Action<long>? maxSizeObserved = null)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        _maxSizeObserved = maxSizeObserved;
        _address = address;
        _certificates = certificates;
        _ownsCertificates = ownsCertificates;
        _connector = new RelayConnector(_address, credentials, _certificates, timeout);
        _timeout = timeout;
        _time = timeProvider;
        if (_certificates.Insecure && logger is not null)
        {
            RelayLog.InsecureTls(logger, _address.Url);
        }
    }

    private static RelayAddress FirstAddress(RelaySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Address ?? throw new ArgumentException("--relay-addr: debug has no SMTP transport");
    }

    public RelayAddress Address => _address;

    public long? MaxSize { get; private set; }

    public async ValueTask SendAsync(MimeMessage message, string from, IReadOnlyList<string> recipients, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(recipients);
        MailboxAddress sender;
        List<MailboxAddress> to;
        try
        {
            // The empty address is the null sender, MAIL FROM:<> (RFC 5321 §4.5.5). A local
            // part MimeKit would refuse ("a..b") goes out quoted, as Postfix sends it.
            sender = EnvelopeMailbox.Create(from);
            to = recipients.Select(EnvelopeMailbox.Create).ToList();
        }
        catch (FormatException e)
        {
            throw new RelayException(RelayFailureKind.Permanent, $"invalid envelope address: {RelayErrorClassifier.OneLine(e.Message)}", e);
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
            throw RelayErrorClassifier.Classify(e, aboutMessage: true);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Drop();
            throw RelayErrorClassifier.Classify(e, aboutMessage: false);
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
        if (_ownsCertificates)
        {
            _certificates.Dispose();
        }
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

        var client = await _connector.OpenAsync(cancellationToken).ConfigureAwait(false);
        _client = client;
        // MailKit reads SIZE from the EHLO reply; 0 or no extension means no stated limit.
        MaxSize = (client.Capabilities & SmtpCapabilities.Size) != 0 && client.MaxSize > 0 ? (long)client.MaxSize : null;
        _maxSizeObserved?.Invoke(MaxSize ?? 0);
        _lastUsed = _time.GetTimestamp();
        return client;
    }

    // After a broken stream there is nobody to say QUIT to.
    private void Drop()
    {
        _client?.Dispose();
        _client = null;
    }
}
