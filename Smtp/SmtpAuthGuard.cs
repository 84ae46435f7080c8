using System.Buffers;
using System.Text;

namespace Failmail.Smtp;

// The connection's side of AUTH (the session's side is SmtpAuthenticator): no secret in the
// --debug-receiver log, the per-IP block across connections (AuthFailureTracker), and the
// 535 held back for a delay that grows with each failure, so guessing is slow.
// A mutable struct: SmtpConnection keeps it in a (non-readonly) field and calls it there,
// never copied, so it costs the connection no allocation of its own.
internal struct SmtpAuthGuard
{
    private readonly SmtpConnectionContext _context;
    private readonly long _id;
    private readonly string _clientAddress;
    // From the tracker at the last failure: this address's failures in its window.
    private TimeSpan _addressDelay;

    public SmtpAuthGuard(SmtpConnectionContext context, long id, string clientAddress)
    {
        _context = context;
        _id = id;
        _clientAddress = clientAddress;
    }

    // The 535 that waits for DelayAsync.
    public SmtpReply PendingReply { get; private set; }

    // Any AUTH line may carry a secret, even one that did not parse.
    public static string DebugText(in SmtpCommand command, in ReadOnlySequence<byte> line) =>
        command.Verb != SmtpVerb.Auth ? Encoding.UTF8.GetString(line)
        : command is { Parameter: null, Error: null } ? "AUTH " + command.Argument
        : "AUTH " + command.Argument + " <AUTH data hidden>";

    // The 500 for a line the framer threw away (over the limit, or a bare LF). Inside an AUTH
    // exchange the line was the client's response: the exchange ends (RFC 4954 §4, and §6's
    // 5.5.6 for a response too long), or the client's next command would be read as the response.
    public static SmtpReply RejectLine(SmtpSession session, SmtpReply reply)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!session.ExpectsAuthResponse)
        {
            return reply;
        }
        session.CancelAuth();
        return reply == SmtpReply.LineTooLong ? SmtpReply.AuthLineTooLong : reply;
    }

    // Too many wrong guesses from this address lately, over any number of connections:
    // the AUTH command is answered 421 and the caller closes.
    public readonly bool TryRefuse(SmtpTransport io)
    {
        if (_context.AuthFailures is not { } tracker || !tracker.IsBlocked(_clientAddress))
        {
            return false;
        }
        io.LogRead("AUTH <refused, data hidden>");
        SmtpLog.AuthBlocked(_context.Logger, _id, _clientAddress, tracker.Failures(_clientAddress), tracker.Window);
        io.Write(SmtpReply.TooManyAuthFailures);
        return true;
    }

    // After the session answered a line: a new failure counts against this address, a
    // success clears it. Returns true when the reply is a 535 that must wait for DelayAsync.
    public bool Record(int failuresBefore, int failuresAfter, SmtpReply reply)
    {
        if (_context.AuthFailures is { } failures)
        {
            if (failuresAfter > failuresBefore)
            {
                _addressDelay = failures.RecordFailure(_clientAddress);
            }
            else if (reply.Code == SmtpReply.AuthSucceeded.Code)
            {
                failures.RecordSuccess(_clientAddress);
            }
        }
        if (reply.Code != SmtpReply.AuthFailed.Code)
        {
            return false;
        }
        PendingReply = reply;
        return true;
    }

    // Wrong AUTH: answer after a delay that grows with each failure (one second per
    // failure so far on this connection, or from this IP within the tracker's window if that
    // is more), so guessing is slow; the session closes after MaxAuthFailures.
    public readonly Task DelayAsync(int failures)
    {
        SmtpLog.AuthFailed(_context.Logger, _id, failures);
        var delay = TimeSpan.FromSeconds(failures);
        if (_addressDelay > delay)
        {
            delay = _addressDelay;
        }
        return Task.Delay(delay, _context.TimeProvider, _context.Abort);
    }
}
