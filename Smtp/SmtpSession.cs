using System.Text;

namespace Failmail.Smtp;

internal enum SessionState
{
    Connected,
    Greeted,
    HaveMail,
    HaveRcpt,
    Closing,
}

// What the connection must do after writing the reply that Handle returned.
internal enum SessionAction
{
    None,
    ReadData,
    StartTls,
    Close,
}

// The SMTP state machine (RFC 5321 §4.1.4, RFC 4954 AUTH, RFC 3207 STARTTLS). No I/O,
// no clock, no logger: a command goes in, a reply comes out, and Action tells the
// connection what mode comes next. The connection owns the instance.
internal sealed class SmtpSession
{
    private readonly SmtpSessionSettings _settings;
    private readonly List<string> _recipients = [];
    // Null when --credentials is not set.
    private readonly SmtpAuthenticator? _auth;
    private readonly SmtpPeer _peer;
    private bool _greeted;

    public SmtpSession(SmtpSessionSettings settings, bool encrypted = false, SmtpPeer peer = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _peer = peer;
        Encrypted = encrypted;
        _auth = settings.Credentials is null ? null : new SmtpAuthenticator(settings.Credentials);
    }

    public SessionState State { get; private set; } = SessionState.Connected;
    public SessionAction Action { get; private set; }
    public bool Encrypted { get; private set; }
    public bool Authenticated => _auth?.Authenticated == true;
    public int AuthFailures => _auth?.Failures ?? 0;
    public string HeloDomain { get; private set; } = "";
    // The reverse-path; "" is the null sender.
    public string From { get; private set; } = "";
    public IReadOnlyList<string> Recipients => _recipients;

    // True while an AUTH exchange waits for the client's next line (a 334 was sent).
    public bool ExpectsAuthResponse => _auth?.ExpectsResponse == true;

    private bool AuthAllowed => Encrypted || _settings.AllowUnencryptedAuth;

    public SmtpReply Greeting() => new(220, _settings.HostName + " ESMTP failmail");

    public SmtpReply Handle(in SmtpCommand command)
    {
        Action = SessionAction.None;
        switch (command.Verb)
        {
            case SmtpVerb.Unknown:
                return SmtpReply.UnknownCommand;
            case SmtpVerb.NotImplemented:
                return SmtpReply.NotImplemented;
        }
        if (command.Error is { } error)
        {
            return error;
        }
        if (command.Verb is SmtpVerb.Mail or SmtpVerb.Rcpt or SmtpVerb.Data
            && _settings.Credentials is not null && !Authenticated && !_peer.IsAllowed)
        {
            return SmtpReply.AuthRequired;
        }

        switch (State, command.Verb)
        {
            case (SessionState.Closing, _):
                return SmtpReply.BadSequence;
            case (_, SmtpVerb.Quit):
                State = SessionState.Closing;
                Action = SessionAction.Close;
                return new SmtpReply(221, "2.0.0 " + _settings.HostName + " closing connection");
            case (_, SmtpVerb.Helo):
                // §4.1.4: HELO/EHLO in a transaction resets it, as RSET does.
                ResetTransaction();
                _greeted = true;
                HeloDomain = command.Argument;
                State = SessionState.Greeted;
                return new SmtpReply(250, _settings.HostName);
            case (_, SmtpVerb.Ehlo):
                ResetTransaction();
                _greeted = true;
                HeloDomain = command.Argument;
                State = SessionState.Greeted;
                return new SmtpReply(250, EhloText(command.Argument));
            case (_, SmtpVerb.Rset):
                ResetTransaction();
                return SmtpReply.ResetOk;
            case (_, SmtpVerb.Noop):
                return SmtpReply.NoopOk;
            case (_, SmtpVerb.Help):
                return SmtpReply.Help;
            case (_, SmtpVerb.Vrfy):
                // §3.5.3: 252 when the server will not verify but will accept the message.
                return SmtpReply.CannotVerify;

            // failmail accepted MAIL without HELO, and so does Postfix by default; the
            // greeting is then implied.
            case (SessionState.Connected or SessionState.Greeted, SmtpVerb.Mail):
                if (command.Size > _settings.Limits.MaxMessageSize)
                {
                    return SmtpReply.MessageTooBig;
                }
                if (IsBareName(command.Argument) && !_peer.IsLoopback)
                {
                    return SmtpReply.BareNameRefused(command.Argument);
                }
                if (_settings.Envelope?.SenderProblem(command.Argument) is { } senderProblem)
                {
                    return SmtpReply.AddressRefused("5.1.7", senderProblem);
                }
                From = command.Argument;
                State = SessionState.HaveMail;
                return SmtpReply.SenderOk;
            case (_, SmtpVerb.Mail):
                return SmtpReply.NestedMail;

            case (SessionState.HaveMail or SessionState.HaveRcpt, SmtpVerb.Rcpt):
                if (_recipients.Count >= _settings.Limits.MaxRecipients)
                {
                    return SmtpReply.TooManyRecipients;
                }
                // §4.1.1.3: <postmaster> without a domain is taken from anyone.
                if (IsBareName(command.Argument) && !_peer.IsLoopback
                    && !command.Argument.Equals("postmaster", StringComparison.OrdinalIgnoreCase))
                {
                    return SmtpReply.BareNameRefused(command.Argument);
                }
                if (_settings.Envelope?.RecipientProblem(command.Argument) is { } recipientProblem)
                {
                    return SmtpReply.AddressRefused("5.1.3", recipientProblem);
                }
                _recipients.Add(command.Argument);
                State = SessionState.HaveRcpt;
                return SmtpReply.RecipientOk;
            case (_, SmtpVerb.Rcpt):
                return SmtpReply.NeedMail;

            case (SessionState.HaveRcpt, SmtpVerb.Data):
                Action = SessionAction.ReadData;
                return SmtpReply.StartData;
            case (SessionState.HaveMail, SmtpVerb.Data):
                return SmtpReply.NeedRcpt;
            case (_, SmtpVerb.Data):
                return SmtpReply.BadSequence;

            case (_, SmtpVerb.StartTls):
                if (Encrypted)
                {
                    return SmtpReply.TlsActive;
                }
                if (!_settings.TlsAvailable)
                {
                    return SmtpReply.TlsNotAvailable;
                }
                Action = SessionAction.StartTls;
                return SmtpReply.ReadyForTls;

            case (_, SmtpVerb.Auth):
                return StartAuth(command);

            default:
                return SmtpReply.UnknownCommand;
        }
    }

    // The message after DATA was answered (stored, rejected or failed): the transaction ends.
    public void EndData() => ResetTransaction();

    // RFC 3207 §4.2: after the handshake the client starts over, with no knowledge kept
    // from before TLS: no greeting, no envelope, no authentication.
    public void TlsStarted()
    {
        ResetTransaction();
        Encrypted = true;
        _auth?.Reset();
        _greeted = false;
        HeloDomain = "";
        State = SessionState.Connected;
        Action = SessionAction.None;
    }

    // A local name without a domain; "" is the null sender, not a name.
    private static bool IsBareName(string address) => address.Length > 0 && !address.Contains('@', StringComparison.Ordinal);

    private void ResetTransaction()
    {
        From = "";
        _recipients.Clear();
        if (State != SessionState.Closing)
        {
            State = _greeted ? SessionState.Greeted : SessionState.Connected;
        }
    }

    private string EhloText(string clientDomain)
    {
        var sb = new StringBuilder();
        sb.Append(_settings.HostName).Append(" Hello ").Append(clientDomain);
        // RFC 2920, RFC 1870, RFC 6152, RFC 2034, RFC 6531.
        sb.Append("\nPIPELINING\nSIZE");
        if (_settings.Limits.MaxMessageSize != long.MaxValue)
        {
            sb.Append(' ').Append(_settings.Limits.MaxMessageSize);
        }
        sb.Append("\n8BITMIME\nENHANCEDSTATUSCODES\nSMTPUTF8");
        if (_settings.TlsAvailable && !Encrypted)
        {
            sb.Append("\nSTARTTLS");
        }
        // RFC 4954 §4: only offer AUTH where it may be used (not in the clear unless allowed).
        if (_settings.Credentials is not null && AuthAllowed)
        {
            sb.Append("\nAUTH PLAIN LOGIN");
        }
        sb.Append("\nHELP");
        return sb.ToString();
    }

    private SmtpReply StartAuth(in SmtpCommand command)
    {
        if (_auth is null)
        {
            return SmtpReply.AuthNotEnabled;
        }
        // AUTH is an extension (RFC 4954), so a client must have greeted first. Postfix takes
        // it after HELO too, and so do we: an old device that sends HELO then AUTH must not
        // lose its alerts over a formality.
        if (!_greeted)
        {
            return SmtpReply.AuthNeedsEhlo;
        }
        if (Authenticated)
        {
            return SmtpReply.AlreadyAuthenticated;
        }
        if (State is SessionState.HaveMail or SessionState.HaveRcpt)
        {
            return SmtpReply.AuthInTransaction;
        }
        if (!AuthAllowed)
        {
            return SmtpReply.EncryptionRequired;
        }
        return AfterAuth(_auth.Start(command.Argument, command.Parameter));
    }

    // The client's line after a 334 challenge (RFC 4954 §4), without its CRLF.
    public SmtpReply HandleAuthResponse(ReadOnlySpan<byte> line)
    {
        Action = SessionAction.None;
        return _auth is null ? SmtpReply.BadSequence : AfterAuth(_auth.Respond(line));
    }

    // The connection could not read the client's line inside an AUTH exchange (over the line
    // limit, or a bare LF): RFC 4954 §4 lets the server fail the exchange, and it must, or the
    // next command line would be taken for the response. No failure is counted: no credentials
    // were checked.
    public void CancelAuth()
    {
        Action = SessionAction.None;
        _auth?.Cancel();
    }

    private SmtpReply AfterAuth(SmtpReply reply)
    {
        if (reply.Code == SmtpReply.TooManyAuthFailures.Code)
        {
            State = SessionState.Closing;
            Action = SessionAction.Close;
        }
        return reply;
    }
}
