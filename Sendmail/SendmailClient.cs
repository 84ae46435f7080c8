using System.Net;
using System.Net.Sockets;
using Failmail.Addresses;
using Failmail.Config;
using Failmail.Maildir;
using Failmail.Rewriting;
using Failmail.Smtp;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Failmail.Sendmail;

// One `failmail sendmail` run: parse the sendmail arguments, read the message, submit it to
// the local failmail at --bind-addr over SMTP. When the daemon cannot be reached or answers
// 4xx, the message goes durably into --spool-dir (SpoolDirectory) for the daemon to import,
// and that is a success, silent with exit 0, as Postfix's sendmail when postdrop queues it:
// cron must not mail a warning for mail that is safe. EX_TEMPFAIL only when it could not be
// stored either. A 5xx is final: EX_DATAERR for the message, EX_UNAVAILABLE otherwise, and
// nothing is spooled.
internal static class SendmailClient
{
    // A cron job must never stall for long on a dead daemon.
    private static readonly TimeSpan TotalTimeout = TimeSpan.FromSeconds(8);
    private const int CommandTimeoutMs = 5000;

    public static async Task<int> RunAsync(FailmailOptions options, IReadOnlyList<string> arguments, Stream input, TextWriter error,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(error);
        if (!SendmailArguments.TryParse(arguments, out var args, out var usage))
        {
            await error.WriteLineAsync($"sendmail: {usage}").ConfigureAwait(false);
            return SysExits.Usage;
        }
        foreach (var warning in args.Warnings)
        {
            await error.WriteLineAsync($"sendmail: warning: {warning}").ConfigureAwait(false);
        }
        if (args.QueueRunOnly && args.Recipients.Count == 0 && !args.RecipientsFromHeaders)
        {
            return SysExits.Ok;
        }

        byte[] raw;
        try
        {
            raw = SendmailInput.Read(input, args.IgnoreDots, options.MaxMessageSize);
        }
        catch (InvalidDataException e)
        {
            await error.WriteLineAsync($"sendmail: {e.Message}").ConfigureAwait(false);
            return SysExits.DataError;
        }
        var domain = HostDomain.Resolve(options.QualifyDomain);
        if (!MessagePreparer.TryPrepare(raw, args, domain, Environment.UserName, DateTimeOffset.Now, out var message, out var code, out var problem)
            || message is null)
        {
            await error.WriteLineAsync($"sendmail: {problem}").ConfigureAwait(false);
            return code;
        }

        string? temporary;
        try
        {
            temporary = await SubmitAsync(options, message, cancellationToken).ConfigureAwait(false);
        }
        catch (SmtpCommandException e) when ((int)e.StatusCode >= 500)
        {
            await error.WriteLineAsync($"sendmail: failmail at {options.BindAddr} refused the message: {(int)e.StatusCode} {e.Message}").ConfigureAwait(false);
            // 552 (too large, also at MAIL FROM SIZE=) and a refusal of the data are about the message.
            return e.ErrorCode == SmtpErrorCode.MessageNotAccepted || e.StatusCode == SmtpStatusCode.ExceededStorageAllocation
                ? SysExits.DataError
                : SysExits.Unavailable;
        }
        catch (AuthenticationException e)
        {
            await error.WriteLineAsync($"sendmail: failmail at {options.BindAddr} refused the credentials (--credentials): {e.Message}").ConfigureAwait(false);
            return SysExits.Config;
        }
        if (temporary is null)
        {
            return SysExits.Ok;
        }

        try
        {
            _ = SpoolDirectory.Deliver(options.SpoolDir, SpoolFile.Encode(message));
            return SysExits.Ok;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            await error.WriteLineAsync($"sendmail: failmail at {options.BindAddr} is unavailable ({temporary}) and the spool failed: {e.Message}; the message was NOT sent")
                .ConfigureAwait(false);
            return SysExits.TempFail;
        }
    }

    // Null when accepted, else why it is worth spooling (connection failure, timeout, 4xx).
    private static async Task<string?> SubmitAsync(FailmailOptions options, SubmittedMessage message, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TotalTimeout);
        using var client = new SmtpClient { Timeout = CommandTimeoutMs };
        try
        {
            var endPoint = DaemonEndPoint(options.BindAddr);
            var loopback = IPAddress.IsLoopback(endPoint.Address);
            // failmail on this host presents its own certificate, often self-signed: trust it
            // over loopback only.
            client.ServerCertificateValidationCallback = (_, _, _, errors) => loopback || errors == System.Net.Security.SslPolicyErrors.None;
            var security = options.Ssl ? SecureSocketOptions.SslOnConnect : options.TlsCert.Length > 0 ? SecureSocketOptions.StartTlsWhenAvailable : SecureSocketOptions.None;
            await client.ConnectAsync(endPoint.Address.ToString(), endPoint.Port, security, timeout.Token).ConfigureAwait(false);
            // The daemon's own --credentials, split by the daemon's own rule.
            if (SmtpCredentials.Parse(options.Credentials) is { } credentials && client.Capabilities.HasFlag(SmtpCapabilities.Authentication))
            {
                await client.AuthenticateAsync(credentials.User, credentials.Password, timeout.Token).ConfigureAwait(false);
            }
            using var stream = new MemoryStream(message.Bytes, writable: false);
            var mime = await MimeMessage.LoadAsync(stream, timeout.Token).ConfigureAwait(false);
            var sender = EnvelopeMailbox.Create(message.From);
            var recipients = message.Recipients.Select(EnvelopeMailbox.Create);
            _ = await client.SendAsync(mime, sender, recipients, timeout.Token).ConfigureAwait(false);
            await client.DisconnectAsync(quit: true, CancellationToken.None).ConfigureAwait(false);
            return null;
        }
        catch (SmtpCommandException e) when ((int)e.StatusCode < 500)
        {
            return $"{(int)e.StatusCode} {e.Message}";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no answer within {TotalTimeout.TotalSeconds:0} s";
        }
        catch (Exception e) when (e is SocketException or IOException or TimeoutException or SmtpProtocolException or SslHandshakeException or ServiceNotConnectedException)
        {
            return e.Message;
        }
    }

    // Where to reach the daemon: its --bind-addr, with "every interface" meaning loopback.
    internal static IPEndPoint DaemonEndPoint(string bindAddr)
    {
        var endPoint = BindAddress.Resolve("--bind-addr", bindAddr);
        if (endPoint.Address.Equals(IPAddress.Any))
        {
            return new IPEndPoint(IPAddress.Loopback, endPoint.Port);
        }
        if (endPoint.Address.Equals(IPAddress.IPv6Any))
        {
            return new IPEndPoint(IPAddress.IPv6Loopback, endPoint.Port);
        }
        return endPoint;
    }
}
