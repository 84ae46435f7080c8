using System.Globalization;
using System.Net.Security;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Failmail.Outputs.Irc;

// An IRC output's connection, kept between posts and opened again when it was lost:
// register (optionally with SASL PLAIN, IRCv3 sasl-3.1), join the channel, then PRIVMSG each
// line under flood control. SendAsync returns only when the server has answered a PING sent
// after the lines, so every line was taken in (IRC has no other receipt). Any failure throws
// IOException or IrcException and drops the connection: the caller retries the whole post,
// so a line may be repeated, never lost.
internal sealed class IrcConnection : IAsyncDisposable
{
    private readonly IrcTarget _target;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RemoteCertificateValidationCallback? _validate;
    private readonly IrcFloodGate _flood;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private IrcSession? _session;
    private string _nick;
    private long _pings;

    public IrcConnection(IrcTarget target, TimeSpan timeout, TimeProvider time, ILogger logger, RemoteCertificateValidationCallback? validate = null, IrcFloodGate? flood = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _target = target;
        _timeout = timeout > TimeSpan.Zero ? timeout : TimeSpan.FromSeconds(30);
        _time = time;
        _logger = logger;
        _validate = validate;
        _flood = flood ?? new IrcFloodGate(time);
        _nick = target.Nick;
    }

    public IrcTarget Target => _target;

    // The nick the server gave us (the URL's, with '_' added when it was taken).
    public string Nick => _nick;

    // Posts each line (cleaned, and split to fit one IRC line) to the channel.
    public async Task SendAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lines);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_session is null || !_session.IsOpen)
            {
                await DropAsync().ConfigureAwait(false);
                _session = await ConnectAsync(cancellationToken).ConfigureAwait(false);
            }
            var session = _session;
            // Room for our nick as the server may have changed it (three '_' at most).
            var budget = IrcText.TextBudget(_target with { Nick = _target.Nick + "___" });
            foreach (var line in lines)
            {
                foreach (var piece in IrcText.Split(line, budget))
                {
                    var wait = _flood.Take();
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                    }
                    await session.WriteAsync($"PRIVMSG {_target.Channel} :{piece}", cancellationToken).ConfigureAwait(false);
                }
            }
            var token = "failmail-" + (++_pings).ToString(CultureInfo.InvariantCulture);
            await session.WriteAsync("PING :" + token, cancellationToken).ConfigureAwait(false);
            await WaitForAsync(session, m => m.Command == "PONG" && m.Last == token, "the PONG after our lines", cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await DropAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task<IrcSession> ConnectAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        IrcSession? session = null;
        try
        {
            session = await IrcSession.OpenAsync(_target, _validate, deadline.Token).ConfigureAwait(false);
            _nick = _target.Nick;
            if (_target.Password is not null)
            {
                await session.WriteAsync("CAP REQ :sasl", deadline.Token).ConfigureAwait(false);
            }
            await session.WriteAsync("NICK " + _nick, deadline.Token).ConfigureAwait(false);
            await session.WriteAsync($"USER {_target.Nick} 0 * :failmail", deadline.Token).ConfigureAwait(false);
            if (_target.Password is not null)
            {
                await AuthenticateAsync(session, deadline.Token).ConfigureAwait(false);
            }
            await RegisterAsync(session, deadline.Token).ConfigureAwait(false);
            var join = _target.ChannelKey is null ? "JOIN " + _target.Channel : $"JOIN {_target.Channel} {_target.ChannelKey}";
            await session.WriteAsync(join, deadline.Token).ConfigureAwait(false);
            // 366 RPL_ENDOFNAMES follows a successful JOIN (RFC 2812 §3.2.1).
            await WaitForAsync(session, m => m.Command == "366", "the JOIN of " + _target.Channel, deadline.Token).ConfigureAwait(false);
            OutputIrcLog.Joined(_logger, _target, _nick);
            return session;
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            if (session is not null)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
            throw new IrcException($"{_target.Host}:{_target.Port} did not complete registration within {_timeout.TotalSeconds:0.#} s", e);
        }
        catch
        {
            if (session is not null)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
            throw;
        }
    }

    // Until 001 RPL_WELCOME, then the end of the MOTD (376, or 422 ERR_NOMOTD), so the MOTD's
    // lines are not taken for the JOIN's answer. A taken nick (433) gets a '_', three times.
    private async Task RegisterAsync(IrcSession session, CancellationToken cancellationToken)
    {
        var welcomed = false;
        for (var lines = 0; lines < 10_000; lines++)
        {
            var message = await session.ReadAsync(cancellationToken).ConfigureAwait(false);
            switch (message.Command)
            {
                case "001":
                    welcomed = true;
                    if (message.Parameters.Count > 0)
                    {
                        _nick = message.Parameters[0];
                    }
                    break;
                case "376" or "422" when welcomed:
                    return;
                case "433" or "436" when !welcomed && _nick.Length < _target.Nick.Length + 3:
                    _nick += "_";
                    await session.WriteAsync("NICK " + _nick, cancellationToken).ConfigureAwait(false);
                    break;
                case "ERROR":
                    throw new IrcException("the IRC server closed the link: " + IrcText.Clean(message.Last));
                default:
                    ThrowOnError(message, "registration");
                    break;
            }
        }
        throw new IrcException("no end of registration from the IRC server");
    }

    private async Task AuthenticateAsync(IrcSession session, CancellationToken cancellationToken)
    {
        var answer = await WaitForAsync(session, m => m.Command == "CAP" && m.Parameters.Count >= 3 && m.Parameters[1] is "ACK" or "NAK", "the answer to CAP REQ :sasl", cancellationToken).ConfigureAwait(false);
        if (answer.Parameters[1] != "ACK")
        {
            throw new IrcException("the IRC server does not offer SASL, and the URL gives a password");
        }
        await session.WriteAsync("AUTHENTICATE PLAIN", cancellationToken).ConfigureAwait(false);
        await WaitForAsync(session, m => m.Command == "AUTHENTICATE" && m.Last == "+", "AUTHENTICATE +", cancellationToken).ConfigureAwait(false);
        // RFC 4616: authzid NUL authcid NUL password, base64; one line up to 400 bytes.
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_target.Nick}\0{_target.Nick}\0{_target.Password}"));
        if (plain.Length >= 400)
        {
            throw new IrcException("the IRC password is too long for one SASL PLAIN line");
        }
        await session.WriteAsync("AUTHENTICATE " + plain, cancellationToken).ConfigureAwait(false);
        // 903 RPL_SASLSUCCESS; 902, 904 to 907 are failures (IRCv3 sasl-3.1).
        await WaitForAsync(session, m => m.Command == "903", "the SASL result", cancellationToken).ConfigureAwait(false);
        await session.WriteAsync("CAP END", cancellationToken).ConfigureAwait(false);
    }

    // Reads until a line matches; an error numeric or ERROR before it throws.
    private async Task<IrcMessage> WaitForAsync(IrcSession session, Func<IrcMessage, bool> match, string what, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        try
        {
            for (var lines = 0; lines < 10_000; lines++)
            {
                var message = await session.ReadAsync(deadline.Token).ConfigureAwait(false);
                if (match(message))
                {
                    return message;
                }
                if (message.Command == "ERROR")
                {
                    throw new IrcException("the IRC server closed the link: " + IrcText.Clean(message.Last));
                }
                ThrowOnError(message, what);
            }
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IrcException($"no {what} from {_target.Host}:{_target.Port} within {_timeout.TotalSeconds:0.#} s", e);
        }
        throw new IrcException($"no {what} from the IRC server");
    }

    // RFC 2812 §5.2: numerics 400 to 599 are errors, 422 (no MOTD) aside; IRCv3 sasl-3.1's
    // 902 and 904 to 907 are SASL failures.
    private static void ThrowOnError(IrcMessage message, string what)
    {
        if (message.Command.Length == 3 && int.TryParse(message.Command, NumberStyles.None, CultureInfo.InvariantCulture, out var code)
            && ((code is >= 400 and < 600 && code != 422) || code is 902 or (>= 904 and <= 907)))
        {
            var text = string.Join(' ', message.Parameters.Skip(1).Select(IrcText.Clean));
            throw new IrcException($"IRC error {message.Command} during {what}: {text}");
        }
    }

    private async Task DropAsync()
    {
        if (_session is not null)
        {
            var session = _session;
            _session = null;
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_session is { IsOpen: true })
            {
                try
                {
                    using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                    await _session.WriteAsync("QUIT :failmail stopping", quick.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
                {
                    // Leaving anyway.
                }
            }
            await DropAsync().ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
            _lock.Dispose();
        }
    }
}
