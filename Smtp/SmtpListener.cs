using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Failmail.Config;
using Failmail.Intake;
using Failmail.Maildir;
using Failmail.Rewriting;
using Microsoft.Extensions.Logging;

namespace Failmail.Smtp;

// The accept loop: binds --bind-addr (or takes an inherited socket), admits each client
// through SmtpOpenConnections (the --max-connections cap), runs it with SmtpConnectionStarter
// (which logs every fault: one bad client never affects another), and drains on stop.
internal sealed class SmtpListener : IAsyncDisposable
{
    private readonly SmtpSettings _settings;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly SmtpConnectionContext _context;
    private readonly bool _implicitTls;
    // After the drain timeout: how long sessions get between their 421 and being cut off.
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _stopAccepting = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly SmtpOpenConnections _connections;
    private readonly SmtpConnectionStarter _starter;
    private Socket? _listenSocket;
    private Task _acceptLoop = Task.CompletedTask;
    private bool _stopped;

    public SmtpListener(FailmailOptions options, IMessageStore store, IMessageSink sink, ILoggerFactory loggerFactory, TimeProvider timeProvider,
        AddressRewriter? addresses = null)
        : this(SmtpSettings.From(options), store, sink, loggerFactory, timeProvider, addresses)
    {
    }

    public SmtpListener(SmtpSettings settings, IMessageStore store, IMessageSink sink, ILoggerFactory loggerFactory, TimeProvider timeProvider,
        AddressRewriter? addresses = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _settings = settings;
        _timeProvider = timeProvider;
        _logger = loggerFactory.CreateLogger("Failmail.Smtp");

        var certificate = settings.TlsCert.Length > 0 ? SmtpTls.Load(settings.TlsCert, settings.TlsKey) : null;
        _implicitTls = settings.Ssl;
        // MAIL/RCPT ask the intake's own check, so what gets 250 is what the intake can take.
        var intake = new MessageIntake(store, sink, addresses, settings.Rewriter, timeProvider);
        var session = new SmtpSessionSettings(
            settings.HostName,
            settings.Limits,
            settings.Credentials,
            settings.AllowUnencryptedAuth,
            TlsAvailable: certificate is not null && !settings.Ssl,
            Envelope: intake.Check);
        // failmail accepted this configuration silently and then refused every message.
        if (session.Credentials is not null && certificate is null && !settings.AllowUnencryptedAuth)
        {
            SmtpLog.AuthUnusable(_logger);
        }
        _context = new SmtpConnectionContext
        {
            Settings = session,
            Intake = intake,
            Logger = _logger,
            TimeProvider = timeProvider,
            DebugReceiver = settings.DebugReceiver,
            Certificate = certificate,
            AllowFrom = settings.AllowFrom,
            AuthFailures = session.Credentials is null ? null : new AuthFailureTracker(timeProvider),
            Shutdown = _shutdown.Token,
            Abort = _abort.Token,
        };
        _connections = new SmtpOpenConnections(_logger, session.Limits.MaxConnections);
        _starter = new SmtpConnectionStarter(_context, _connections, _implicitTls);
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)(ListenSocket.LocalEndPoint ?? throw new InvalidOperationException("not bound"));
    public Socket ListenSocket => _listenSocket ?? throw new InvalidOperationException("Start has not been called");
    public int OpenSessions => _connections.Count;
    public long MessagesAccepted => _context.MessagesAccepted;

    // The door this listener's sessions use; the spool importer shares it.
    public MessageIntake Intake => _context.Intake;
    public long MessagesRejected => _context.MessagesRejected;

    public void Start(Socket? listeningSocket = null)
    {
        if (_listenSocket is not null)
        {
            throw new InvalidOperationException("already started");
        }
        if (listeningSocket is null)
        {
            var endPoint = _settings.Bind.Resolve();
            var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (endPoint.Address.Equals(IPAddress.IPv6Any))
                {
                    socket.DualMode = true;
                }
                // No ReuseAddress: on Linux .NET maps it to SO_REUSEPORT as well, which lets a
                // second failmail bind the same port silently. A restart still rebinds over
                // TIME_WAIT anyway: .NET sets SO_REUSEADDR on Unix sockets by default.
                socket.Bind(endPoint);
                socket.Listen(512);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            listeningSocket = socket;
        }
        _listenSocket = listeningSocket;
        SmtpLog.Listening(_logger, (_implicitTls ? "ssl:" : "") + listeningSocket.LocalEndPoint);
        if (IsOpenToAnyClient(listeningSocket.LocalEndPoint, _settings.Credentials is not null, _settings.AllowFrom))
        {
            SmtpLog.OpenToAnyClient(_logger, listeningSocket.LocalEndPoint?.ToString() ?? "?");
        }
        _acceptLoop = AcceptLoopAsync(listeningSocket);
    }

    // A listener bound past loopback with neither gate takes mail from anyone who can reach it.
    internal static bool IsOpenToAnyClient(EndPoint? bound, bool hasCredentials, ClientNetworks allowFrom) =>
        bound is IPEndPoint ip && !IPAddress.IsLoopback(ip.Address) && !hasCredentials && !allowFrom.IsRestricted;

    private async Task AcceptLoopAsync(Socket listenSocket)
    {
        while (!_stopAccepting.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listenSocket.AcceptAsync(_stopAccepting.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // Per-connection accept errors (ECONNABORTED, EMFILE) must not end the loop.
                SmtpLog.AcceptFailed(_logger, e);
                await Task.Yield();
                continue;
            }
            if (!_connections.TryAdmit(client))
            {
                continue;
            }
            var id = _connections.Reserve();
            // The session starts on this thread and runs up to its first wait for the client:
            // no thread-pool hop (a wake-up and a context switch) per connection.
            var connection = _starter.RunAsync(client, id);
            _connections.Started(id, connection);
        }
    }

    public async Task StopAsync(TimeSpan drainTimeout, CancellationToken ct = default)
    {
        if (_stopped)
        {
            return;
        }
        _stopped = true;
        // Cancel the pending accept and wait for it before closing: closing a socket with an
        // accept pending makes .NET close it abortively (SO_LINGER 0), and after a reload
        // hand-off that socket is the child's, whose connections would then be reset.
        await _stopAccepting.CancelAsync().ConfigureAwait(false);
        await _acceptLoop.ConfigureAwait(false);
        _listenSocket?.Dispose();
        // Open sessions finish what they are doing, however many messages that is, within
        // drainTimeout: a stop or reload must not fail a client mid-transaction.
        var all = _connections.WhenAll();
        try
        {
            await all.WaitAsync(drainTimeout, _timeProvider, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Out of time: 421 at the next command; a session inside DATA may still end its
            // message, for one more second, before the rest are cut off.
            await _shutdown.CancelAsync().ConfigureAwait(false);
            try
            {
                await all.WaitAsync(ShutdownGrace, _timeProvider, CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                SmtpLog.DrainAborted(_logger, OpenSessions);
                await _abort.CancelAsync().ConfigureAwait(false);
                // Every connection task catches its own faults; after the abort they end promptly.
                await _connections.WhenAll().ConfigureAwait(false);
            }
        }
        SmtpLog.Stopped(_logger, OpenSessions);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.Zero).ConfigureAwait(false);
        _stopAccepting.Dispose();
        _shutdown.Dispose();
        _abort.Dispose();
    }
}
