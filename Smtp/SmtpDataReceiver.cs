using Failmail.Maildir;

namespace Failmail.Smtp;

// DATA, a mode of the connection (STYLE): from the 354 to the reply after CRLF.CRLF. The
// payload streams through a DataReader into a store draft, never buffered whole; at the end
// SmtpDelivery commits it and the reply goes out. The DATA phase has its own deadline
// (§4.5.3.2.6), not extended by bytes arriving (slowloris, STYLE pitfall 5).
// One per connection, owned by SmtpConnection; the draft is this object's until it is
// handed to SmtpDelivery.FinishAsync.
internal sealed class SmtpDataReceiver
{
    private readonly SmtpConnectionContext _context;
    private readonly long _id;
    private readonly SmtpTransport _io;
    private readonly SmtpSession _session;
    private readonly PhaseDeadline _deadline;
    private readonly string _clientAddress;
    private volatile bool _active;
    private DataReader? _data;
    private IMessageDraft? _draft;

    public SmtpDataReceiver(SmtpConnectionContext context, long id, SmtpTransport io, SmtpSession session, PhaseDeadline deadline, string clientAddress)
    {
        _context = context;
        _id = id;
        _io = io;
        _session = session;
        _deadline = deadline;
        _clientAddress = clientAddress;
    }

    // Read from the shutdown callback's thread: a session inside DATA may finish its message.
    public bool Active => _active;

    // The session accepted DATA. Returns true after writing 354: the next bytes are the
    // message. False after writing the refusal (451 when the batcher's queue is full or the
    // store cannot be written): the session is back in the command phase.
    public bool Start()
    {
        _draft = SmtpDelivery.Begin(_context, _id, out var refusal);
        if (_draft is null)
        {
            _session.EndData();
            _io.Write(refusal);
            return false;
        }
        _data = new DataReader(_draft, _context.Settings.Limits.MaxMessageSize);
        _active = true;
        _io.Write(SmtpReply.StartData);
        // §4.5.3.2.6: the whole DATA phase has its own deadline.
        _deadline.Restart(_context.Settings.Limits.DataTimeout);
        return true;
    }

    // Reads to the terminator, commits, replies and flushes. Returns false when the
    // connection must close (DATA timeout, already answered 421 and flushed; client gone).
    public async Task<bool> ReceiveAsync(Action<long>? readObserved)
    {
        // Debug.Assert-free: only called after Start returned true.
        var data = _data ?? throw new InvalidOperationException("not in DATA");
        while (true)
        {
            var result = await _io.Reader.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            var done = false;
            var consumed = buffer.Start;
            var length = buffer.Length;
            try
            {
                if (_deadline.Expired)
                {
                    SmtpLog.Timeout(_context.Logger, _id, "DATA");
                    _io.Write(SmtpReply.Timeout);
                }
                else
                {
                    done = data.TryReadToEnd(buffer, out consumed);
                }
            }
            finally
            {
                // Commands pipelined after the terminator are unread, not examined.
                _io.Reader.AdvanceTo(consumed, done ? consumed : buffer.End);
            }
            readObserved?.Invoke(length);
            if (_deadline.Expired)
            {
                await _io.FlushAsync(_deadline.FlushToken(_context.Abort)).ConfigureAwait(false);
                return false;
            }
            if (done)
            {
                break;
            }
            if (result.IsCompleted)
            {
                SmtpLog.ClientGone(_context.Logger, _id, "inside DATA");
                return false;
            }
        }
        if (_context.DebugReceiver)
        {
            _io.LogRead($"<{data.WireLength} bytes of DATA hidden>");
        }
        var draft = _draft ?? throw new InvalidOperationException("DATA without a draft");
        // FinishAsync owns the draft now (and disposes it), even if it throws.
        _draft = null;
        var reply = await SmtpDelivery.FinishAsync(_context, _id, _session, data, draft, _clientAddress).ConfigureAwait(false);
        _data = null;
        _active = false;
        _session.EndData();
        _io.Write(reply);
        _deadline.Restart(_context.Settings.Limits.CommandTimeout);
        await _io.FlushAsync(_deadline.FlushToken(_context.Abort)).ConfigureAwait(false);
        return true;
    }

    // The connection ends inside DATA: the half-written draft is thrown away.
    public ValueTask DisposeDraftAsync()
    {
        var draft = _draft;
        _draft = null;
        return draft?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
