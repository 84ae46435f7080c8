using System.Net.Sockets;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace Failmail.Relay;

// Turns what MailKit and the socket layer throw into a RelayException whose message names
// the cause in plain words ("connection refused", "timed out", "certificate untrusted
// (...)", "authentication rejected: 535 ...", ...): the worker logs exactly that message.
internal static class RelayErrorClassifier
{
    // MailKit's split: SmtpCommandException = the server said no (its status decides);
    // SmtpProtocolException, IOException, SocketException, TLS = the stream is broken.
    // aboutMessage: the reply came during the transaction (MAIL, RCPT, DATA, end of data),
    // not while connecting, greeting, EHLO or AUTH, which concern the relay, not the message.
    // certificateFailure: why our certificate check said no, if it did.
    public static RelayException Classify(Exception e, bool aboutMessage, string? certificateFailure = null)
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
                    ? new RelayException(RelayFailureKind.Permanent, $"relay rejected the message: {text}", e) { TooLarge = code == 552 || command.Message.Contains("5.3.4", StringComparison.Ordinal) }
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
    public static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
