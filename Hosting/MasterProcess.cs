using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Failmail.Config;
using Microsoft.Extensions.Logging;

namespace Failmail.Hosting;

// --master: the nginx/HAProxy master-worker model, for supervisors that watch one pid
// (supervisord, runit). This process binds the listening sockets and keeps them, and runs
// failmail itself as a worker: the same binary and arguments, the SMTP socket at fd 3
// (--socket-fd=3), the HTTP socket at fd 4 (FAILMAIL_HTTP_FD), in a process group of its own.
//   SIGUSR1/SIGHUP  start a new worker from the binary on disk, told which worker it replaces
//                   (FAILMAIL_RELOAD_PARENT_PID: it opens the stores without crash recovery and
//                   starts its batcher and relay once that one has exited, as a reload child
//                   does). Once it says READY=1 (sd_notify to the master's own socket), SIGUSR2
//                   the old one: it stops accepting, drains and exits. A new worker that exits
//                   or stays silent for a minute is given up; the old one keeps serving.
//   SIGTERM/SIGINT  SIGTERM to every worker; exit once all have (a second one: at once).
//   a worker dies   another is started after a backoff (1 s doubling to 1 min; back to 1 s
//                   after one that ran a minute). The first worker failing to start (status
//                   2) ends the master with status 2: a restart would fail the same way.
// The master's pid, which the supervisor and --pidfile see, never changes.
internal sealed class MasterProcess : IDisposable
{
    public const string MasterPidVariable = "FAILMAIL_MASTER_PID";
    public const string HttpFdVariable = "FAILMAIL_HTTP_FD";
    public const int HttpChildFd = 4;

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan HealthyRun = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan ReadyLimit = TimeSpan.FromMinutes(1);
    private static readonly string[] DroppedEnvironment =
        ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET", ReloadHandOff.ParentPidVariable, MasterPidVariable, HttpFdVariable];

    private readonly ILogger _logger;
    private readonly Socket? _smtp;
    private readonly Socket? _http;
    private readonly string _program;
    private readonly IReadOnlyList<string> _args;
    private readonly object _lock = new();
    private readonly List<int> _draining = [];
    // The workers' NOTIFY_SOCKET: an abstract datagram socket only this master reads.
    private readonly Socket _ready;
    private readonly string _readyName;
    private int? _current;

    private MasterProcess(ILogger logger, Socket? smtp, Socket? http, string program, IReadOnlyList<string> args)
    {
        _logger = logger;
        _smtp = smtp;
        _http = http;
        _program = program;
        _args = smtp is null ? args : ReloadHandOff.ChildArguments(args);
        _readyName = string.Create(CultureInfo.InvariantCulture, $"failmail-master-{System.Environment.ProcessId}-{Guid.NewGuid():N}");
        _ready = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { Blocking = false };
        _ready.Bind(new UnixDomainSocketEndPoint("\0" + _readyName));
    }

    // In a worker: the master's pid (then the worker keeps no pidfile, ignores SIGUSR1/SIGHUP,
    // hands over on SIGUSR2 and stops when its master is gone). Null in any other process.
    public static int? TakeMasterPid() => TakeInt(MasterPidVariable);

    // In a worker: the HTTP socket the master holds for it, or null.
    public static Socket? TakeHttpSocket() =>
        TakeInt(HttpFdVariable) is int fd ? new Socket(new SafeSocketHandle(fd, ownsHandle: true)) : null;

    // Runs the master until its workers have stopped. Returns the exit status.
    public static async Task<int> RunAsync(MasterSettings settings, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var logger = loggerFactory.CreateLogger("Failmail.Master");
        MasterProcess? master = null;
        using var signals = new SignalHandler(logger, status =>
        {
            // A second stop signal: the workers exit at once too (a second SIGTERM each).
            master?.SignalAll(PosixNative.SigTerm);
            System.Environment.Exit(status);
        });
        signals.Register();
        var notifier = SystemdNotifier.FromEnvironment();
        HostLog.MasterStarting(logger, FailmailVersion.Text, System.Environment.ProcessId);

        Pidfile? pidfile = null;
        Socket? smtp = null;
        Socket? http = null;
        try
        {
            if (settings.Pidfile.Length > 0)
            {
                pidfile = Pidfile.Create(settings.Pidfile);
            }
            if (settings.Receiver)
            {
                smtp = ListenSocketSource.Acquire(settings.SocketFd) ?? Listen("--bind-addr", settings.BindAddr, 512);
            }
            if (settings.BindHttp.Length > 0)
            {
                http = Listen("--bind-http", settings.BindHttp, 64);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ArgumentException or FormatException or ListenSocketException or PidfileException)
        {
            smtp?.Dispose();
            pidfile?.Dispose();
            await Console.Error.WriteLineAsync($"failmail: {(e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } ? "address already in use: " : "")}{e.Message}")
                .ConfigureAwait(false);
            return 2;
        }
        var shown = smtp?.LocalEndPoint?.ToString();
        if (shown is not null)
        {
            HostLog.MasterListening(logger, shown);
        }

        using (pidfile)
        using (smtp)
        using (http)
        {
            var args = System.Environment.GetCommandLineArgs();
            var program = ReloadHandOff.ResolveProgram(args.Length > 0 ? args[0] : null, System.Environment.ProcessPath);
            master = new MasterProcess(logger, smtp, http, program, args.Skip(1).ToList());
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, signals.ShutdownToken);
            using (master)
            {
                var status = await master.SuperviseAsync(signals, notifier, stop.Token).ConfigureAwait(false);
                HostLog.MasterStopped(logger, status);
                return status;
            }
        }
    }

    private async Task<int> SuperviseAsync(SignalHandler signals, SystemdNotifier notifier, CancellationToken stop)
    {
        var status = 0;
        var stopping = false;
        var firstWorker = true;
        var backoff = FirstBackoff;
        var started = Stopwatch.GetTimestamp();
        var restartAt = long.MinValue;
        var reload = signals.WaitForReloadAsync(CancellationToken.None);
        var stopped = Task.Delay(Timeout.Infinite, stop);
        // A reload's new worker until it is ready, and when it is given up.
        int? incoming = null;
        var incomingDeadline = 0L;

        SetCurrent(Start(replacing: null, ""));
        if (_current is null)
        {
            return 2;
        }
        started = Stopwatch.GetTimestamp();
        _ = notifier.Ready();

        while (true)
        {
            foreach (var pid in Draining())
            {
                if (Ended(pid, out var drained))
                {
                    HostLog.WorkerExited(_logger, pid, drained);
                    lock (_lock)
                    {
                        _draining.Remove(pid);
                    }
                }
            }
            if (incoming is int pending)
            {
                if (Ended(pending, out var failed))
                {
                    incoming = null;
                    HostLog.ReloadFailed(_logger, $"the new worker (pid {pending}) exited with status {failed} before it was ready; worker {_current} keeps serving");
                }
                else if (ReadyReceived() || _current is null)
                {
                    // Ready (or the old one is gone anyway): the new worker serves, the old drains.
                    if (_current is int previous)
                    {
                        lock (_lock)
                        {
                            _draining.Add(previous);
                        }
                        _ = PosixNative.Kill(previous, PosixNative.SigUsr2);
                    }
                    SetCurrent(pending);
                    incoming = null;
                    firstWorker = false;
                    started = Stopwatch.GetTimestamp();
                    _ = notifier.Ready();
                }
                else if (Stopwatch.GetTimestamp() > incomingDeadline)
                {
                    HostLog.ReloadFailed(_logger, $"the new worker (pid {pending}) did not get ready within {ReadyLimit}; stopping it, worker {_current} keeps serving");
                    _ = PosixNative.Kill(pending, PosixNative.SigTerm);
                    lock (_lock)
                    {
                        _draining.Add(pending);
                    }
                    incoming = null;
                    _ = notifier.Ready();
                }
            }
            if (_current is int current && Ended(current, out var exit))
            {
                SetCurrent(null);
                if (stopping)
                {
                    HostLog.WorkerExited(_logger, current, exit);
                }
                else if (firstWorker && exit == 2)
                {
                    // It could not start (a store, a certificate): another try fails the same.
                    HostLog.WorkerExited(_logger, current, exit);
                    status = 2;
                    stopping = true;
                    SignalAll(PosixNative.SigTerm);
                }
                else
                {
                    if (Stopwatch.GetElapsedTime(started) >= HealthyRun)
                    {
                        backoff = FirstBackoff;
                    }
                    HostLog.WorkerCrashed(_logger, current, exit, backoff);
                    restartAt = Stopwatch.GetTimestamp() + (long)(backoff.TotalSeconds * Stopwatch.Frequency);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                }
            }

            if (stop.IsCancellationRequested && !stopping)
            {
                stopping = true;
                _ = notifier.Stopping();
                if (incoming is int pendingAtStop)
                {
                    lock (_lock)
                    {
                        _draining.Add(pendingAtStop);
                    }
                    incoming = null;
                }
                SignalAll(PosixNative.SigTerm);
            }
            if (stopping)
            {
                if (_current is null && Draining().Count == 0)
                {
                    return status;
                }
            }
            else if (reload.IsCompleted && incoming is null)
            {
                reload = signals.WaitForReloadAsync(CancellationToken.None);
                _ = notifier.Reloading(ReloadHandOff.MonotonicMicroseconds());
                var old = _current;
                // READY=1 of an earlier worker must not count for this one.
                _ = ReadyReceived();
                incoming = Start(replacing: old ?? Draining().LastOrDefault(), old is null ? " after a reload request" : $" to replace worker {old}");
                incomingDeadline = Stopwatch.GetTimestamp() + (long)(ReadyLimit.TotalSeconds * Stopwatch.Frequency);
                restartAt = long.MinValue;
                if (incoming is null)
                {
                    _ = notifier.Ready();
                }
            }
            else if (_current is null && Stopwatch.GetTimestamp() >= restartAt)
            {
                firstWorker = false;
                var next = Start(replacing: Draining().LastOrDefault(), " after the last one ended");
                SetCurrent(next);
                started = Stopwatch.GetTimestamp();
                if (next is null)
                {
                    restartAt = Stopwatch.GetTimestamp() + (long)(backoff.TotalSeconds * Stopwatch.Frequency);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                }
            }
            await Task.WhenAny(Task.Delay(Tick, CancellationToken.None), reload, stopped).ConfigureAwait(false);
        }
    }

    public void Dispose() => _ready.Dispose();

    // Whether a READY=1 datagram came in since the last call (all queued ones are read).
    private bool ReadyReceived()
    {
        var ready = false;
        var buffer = new byte[512];
        while (_ready.Available > 0)
        {
            try
            {
                var n = _ready.Receive(buffer);
                ready |= System.Text.Encoding.UTF8.GetString(buffer, 0, n).Split('\n').Contains("READY=1");
            }
            catch (SocketException)
            {
                break;
            }
        }
        return ready;
    }

    // Reaped now; or not our child any more (ECHILD: collected elsewhere), which is as ended.
    private static bool Ended(int pid, out int status)
    {
        var result = PosixNative.Reap(pid, out status);
        if (result == -1)
        {
            status = -1;
            return true;
        }
        return result == pid;
    }

    // replacing: the worker this one takes over from (0 or null: none).
    private int? Start(int? replacing, string reason)
    {
        var sockets = new List<(Socket, int)>();
        if (_smtp is not null)
        {
            sockets.Add((_smtp, ReloadHandOff.ChildSocketFd));
        }
        if (_http is not null)
        {
            sockets.Add((_http, HttpChildFd));
        }
        try
        {
            var pid = ReloadHandOff.Spawn(_program, _args, WorkerEnvironment(replacing is > 0 ? replacing : null), sockets, newProcessGroup: true);
            HostLog.WorkerStarted(_logger, pid, _program, reason);
            return pid;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            HostLog.WorkerStartFailed(_logger, e.Message);
            return null;
        }
    }

    private List<string> WorkerEnvironment(int? replacing)
    {
        var result = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"{MasterPidVariable}={System.Environment.ProcessId}"),
            "NOTIFY_SOCKET=@" + _readyName,
        };
        if (_http is not null)
        {
            result.Add(string.Create(CultureInfo.InvariantCulture, $"{HttpFdVariable}={HttpChildFd}"));
        }
        if (replacing is int parent)
        {
            result.Add(string.Create(CultureInfo.InvariantCulture, $"{ReloadHandOff.ParentPidVariable}={parent}"));
        }
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            var name = (string)entry.Key;
            if (Array.IndexOf(DroppedEnvironment, name) < 0)
            {
                result.Add($"{name}={entry.Value}");
            }
        }
        return result;
    }

    private void SetCurrent(int? pid)
    {
        lock (_lock)
        {
            _current = pid;
        }
    }

    private List<int> Draining()
    {
        lock (_lock)
        {
            return [.. _draining];
        }
    }

    // From the signal thread too (the second stop signal).
    private void SignalAll(int signal)
    {
        lock (_lock)
        {
            foreach (var pid in _draining.Append(_current ?? 0).Where(p => p > 0))
            {
                _ = PosixNative.Kill(pid, signal);
            }
        }
    }

    private static Socket Listen(string flag, string address, int backlog)
    {
        var endPoint = BindAddress.Resolve(flag, address);
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            socket.Bind(endPoint);
            socket.Listen(backlog);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new IOException($"{flag}: cannot listen on {address}: {e.Message}", e);
        }
    }

    private static int? TakeInt(string variable)
    {
        var value = System.Environment.GetEnvironmentVariable(variable);
        System.Environment.SetEnvironmentVariable(variable, null);
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;
    }
}
