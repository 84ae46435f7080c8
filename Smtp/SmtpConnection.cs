using System.Buffers;
using System.IO.Pipelines;

namespace Failmail.Smtp;

// One client: the pipe I/O loop around an SmtpSession. Reads, answers every complete
// command line in the buffer, flushes once per read (RFC 2920), hands DATA to its
// SmtpDataReceiver, upgrades to TLS on STARTTLS; SmtpAuthGuard holds the AUTH side. Deadlines
// run per phase from the TimeProvider and are not extended by single bytes (slowloris,
// STYLE pitfall 5).
internal sealed class SmtpConnection : IAsyncDisposable
{
    private enum Next
    {
        Continue,
        ReadData,
        StartTls,
        AuthFailed,
        Close,
    }

    private readonly SmtpConnectionContext _context;
    private readonly long _id;
    private readonly SmtpTransport _io;
    private readonly SmtpSession _session;
    private readonly SmtpLimits _limits;
    private readonly PhaseDeadline _deadline;
    private readonly CommandLineFramer _framer;
    private readonly SmtpDataReceiver _data;
    // A mutable struct, called in place: never copy it out of this field.
    private SmtpAuthGuard _auth;

    public SmtpConnection(SmtpConnectionContext context, long id, Stream transport, string clientAddress, bool encrypted, SmtpPeer peer = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(transport);
        _context = context;
        _id = id;
        _io = new SmtpTransport(transport, id, context.Logger, context.DebugReceiver);
        _limits = context.Settings.Limits;
        _framer = new CommandLineFramer(_limits.MaxCommandLine);
        _deadline = new PhaseDeadline(context.TimeProvider, () => _io.CancelPendingRead());
        _session = new SmtpSession(context.Settings, encrypted, peer);
        _data = new SmtpDataReceiver(context, id, _io, _session, _deadline, clientAddress);
        _auth = new SmtpAuthGuard(context, id, clientAddress);
    }

    // Test hook: called with the byte count of every read once it has been handled.
    internal Action<long>? ReadObserved { get; init; }

    public async Task RunAsync()
    {
        // Static with state: no closure per connection.
        using var onShutdown = _context.Shutdown.Register(static state =>
        {
            // Register passes this connection, never null.
            var connection = (SmtpConnection)state!;
            // A session inside DATA may finish its message; the others stop at once (§3.8).
            if (!connection._data.Active)
            {
                connection.CancelRead();
            }
        }, this);
        try
        {
            // The deadline exists before the greeting is sent, so a test that has read the
            // greeting can advance a fake clock past it.
            _deadline.Restart(_limits.CommandTimeout);
            Write(_session.Greeting());
            await FlushAsync().ConfigureAwait(false);
            await LoopAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            SmtpLog.ClientGone(_context.Logger, _id, "during " + (_data.Active ? "DATA" : "a command") + ": " + e.GetType().Name);
        }
        finally
        {
            await _data.DisposeDraftAsync().ConfigureAwait(false);
            await DisposeAsync().ConfigureAwait(false);
            SmtpLog.ConnectionClosed(_context.Logger, _id);
        }
    }

    private async Task LoopAsync()
    {
        while (true)
        {
            if (_data.Active)
            {
                if (!await _data.ReceiveAsync(ReadObserved).ConfigureAwait(false))
                {
                    return;
                }
                continue;
            }
            if (_context.Shutdown.IsCancellationRequested)
            {
                await CloseWithAsync(SmtpReply.ShuttingDown).ConfigureAwait(false);
                return;
            }
            var result = await _io.Reader.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            var consumed = buffer.Start;
            var examined = buffer.End;
            var next = Next.Continue;
            var length = buffer.Length;
            try
            {
                if (_deadline.Expired)
                {
                    SmtpLog.Timeout(_context.Logger, _id, "command");
                    Write(SmtpReply.Timeout);
                    next = Next.Close;
                }
                else if (result.IsCanceled && _context.Shutdown.IsCancellationRequested)
                {
                    Write(SmtpReply.ShuttingDown);
                    next = Next.Close;
                }
                else
                {
                    next = ProcessLines(buffer, ref consumed, ref examined);
                    if (next == Next.Continue && result.IsCompleted)
                    {
                        // EOF: a partial line left over is dropped, never run as a command.
                        SmtpLog.ClientGone(_context.Logger, _id, "between commands");
                        next = Next.Close;
                    }
                }
            }
            finally
            {
                _io.Reader.AdvanceTo(consumed, examined);
            }
            // The delay's timer is armed before anyone is told the read was handled.
            var authDelay = next == Next.AuthFailed ? _auth.DelayAsync(_session.AuthFailures) : Task.CompletedTask;
            ReadObserved?.Invoke(length);
            await FlushAsync().ConfigureAwait(false);
            switch (next)
            {
                case Next.Close:
                    return;
                case Next.AuthFailed:
                    await authDelay.ConfigureAwait(false);
                    Write(_auth.PendingReply);
                    await FlushAsync().ConfigureAwait(false);
                    break;
                case Next.StartTls:
                    if (!await StartTlsAsync().ConfigureAwait(false))
                    {
                        return;
                    }
                    break;
            }
        }
    }

    // Answers every complete line in the buffer; stops early where the next bytes belong
    // to another mode (DATA, TLS) or the reply must wait (AUTH failure delay).
    private Next ProcessLines(in ReadOnlySequence<byte> buffer, ref SequencePosition consumed, ref SequencePosition examined)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (!reader.End)
        {
            var framed = _framer.TryRead(ref reader, out var line);
            if (framed == FrameResult.NeedMore)
            {
                // Incomplete: everything was looked at, so the next read waits for more.
                consumed = reader.Position;
                examined = buffer.End;
                return Next.Continue;
            }
            consumed = reader.Position;
            if (framed is FrameResult.TooLong or FrameResult.BareLf)
            {
                if (framed == FrameResult.TooLong)
                {
                    // §4.5.3.1.4: over the command line limit.
                    SmtpLog.LineTooLong(_context.Logger, _id);
                }
                Write(SmtpAuthGuard.RejectLine(_session, framed == FrameResult.TooLong ? SmtpReply.LineTooLong : SmtpReply.BareLf));
                continue;
            }
            var next = HandleLine(line);
            if (next != Next.Continue)
            {
                // What follows belongs to the next mode: unread, so not examined either.
                examined = consumed;
                if (next == Next.StartTls)
                {
                    // RFC 3207 §4.2 (CVE-2011-0411): nothing sent before the handshake counts.
                    consumed = buffer.End;
                    examined = buffer.End;
                }
                return next;
            }
        }
        examined = buffer.End;
        return Next.Continue;
    }

    private Next HandleLine(in ReadOnlySequence<byte> line)
    {
        if (_context.Shutdown.IsCancellationRequested)
        {
            Write(SmtpReply.ShuttingDown);
            return Next.Close;
        }
        SmtpReply reply;
        var failuresBefore = _session.AuthFailures;
        if (_session.ExpectsAuthResponse)
        {
            LogRead("<AUTH data hidden>");
            Span<byte> copy = line.Length <= 512 ? stackalloc byte[(int)line.Length] : new byte[line.Length];
            line.CopyTo(copy);
            reply = _session.HandleAuthResponse(copy);
        }
        else
        {
            var command = SmtpCommandParser.Parse(line);
            if (command.Verb == SmtpVerb.Auth && _auth.TryRefuse(_io))
            {
                return Next.Close;
            }
            if (_context.DebugReceiver)
            {
                LogRead(SmtpAuthGuard.DebugText(command, line));
            }
            reply = _session.Handle(command);
        }
        // A complete command restarts the command deadline; bytes alone never do.
        _deadline.Restart(_limits.CommandTimeout);
        if (_auth.Record(failuresBefore, _session.AuthFailures, reply))
        {
            return Next.AuthFailed;
        }
        switch (_session.Action)
        {
            case SessionAction.ReadData:
                return _data.Start() ? Next.ReadData : Next.Continue;
            case SessionAction.StartTls:
                Write(reply);
                return Next.StartTls;
            case SessionAction.Close:
                Write(reply);
                return Next.Close;
            default:
                Write(reply);
                return Next.Continue;
        }
    }

    private async Task<bool> StartTlsAsync()
    {
        var certificate = _context.Certificate ?? throw new InvalidOperationException("STARTTLS without a certificate");
        try
        {
            await _io.UpgradeToTlsAsync(certificate, _deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
        {
            SmtpLog.TlsFailed(_context.Logger, _id, e);
            return false;
        }
        _session.TlsStarted();
        _deadline.Restart(_limits.CommandTimeout);
        return true;
    }

    private async Task CloseWithAsync(SmtpReply reply)
    {
        Write(reply);
        await FlushAsync().ConfigureAwait(false);
    }

    // RunAsync disposes on its way out; disposing twice is harmless.
    public ValueTask DisposeAsync()
    {
        _deadline.Dispose();
        return _io.DisposeAsync();
    }

    private void Write(SmtpReply reply) => _io.Write(reply);

    private ValueTask<FlushResult> FlushAsync() => _io.FlushAsync(_deadline.FlushToken(_context.Abort));

    private void LogRead(string text) => _io.LogRead(text);

    private void CancelRead() => _io.CancelPendingRead();
}
