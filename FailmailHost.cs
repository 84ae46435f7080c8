using System.Net.Sockets;
using System.Security.Cryptography;
using Failmail.Batching;
using Failmail.Hosting;
using Microsoft.Extensions.Logging;

namespace Failmail;

// The process lifecycle: pidfile, services, READY=1, then wait for SIGINT/SIGTERM (drain,
// flush, exit 0) or SIGUSR1/SIGHUP (hand the listening socket to a new copy of the binary,
// drain, exit 0). A start-up failure is one clear line on stderr and exit status 2.
internal static class FailmailHost
{
    public const int StartupError = 2;
    public const int RuntimeError = 1;

    public static async Task<int> RunAsync(FailmailOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var loggerFactory = LoggingSetup.CreateLoggerFactory(options.LogJson, options.DebugReceiver ? LogLevel.Debug : LogLevel.Information);
        // Set in a worker that a --master process runs (Hosting/MasterProcess).
        var masterPid = MasterProcess.TakeMasterPid();
        if (options.Master && masterPid is null)
        {
            return await MasterProcess.RunAsync(new MasterSettings(options.RunReceiver, options.BindAddr, options.SocketFd, options.BindHttp, options.Pidfile),
                loggerFactory, cancellationToken).ConfigureAwait(false);
        }
        var logger = loggerFactory.CreateLogger("Failmail.Host");
        using var signals = new SignalHandler(logger);
        signals.Register();
        if (masterPid is not null)
        {
            signals.RegisterHandOver();
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, signals.ShutdownToken);
        var notifier = SystemdNotifier.FromEnvironment();
        HostLog.Starting(logger, FailmailVersion.Text, Environment.ProcessId);

        Pidfile? pidfile = null;
        FailmailServices services;
        try
        {
            var socket = ListenSocketSource.Acquire(options.SocketFd);
            // Set when a reloading failmail started us: the process that handed over the socket.
            var reloadParent = ReloadHandOff.TakeParentPid();
            // Under a master the pidfile names the master, which keeps it.
            if (options.Pidfile.Length > 0 && masterPid is null)
            {
                // A reload child takes over the file its parent wrote.
                pidfile = Pidfile.Create(options.Pidfile, parentPid: reloadParent);
            }
            services = await FailmailServices.StartAsync(options, socket, reloadParent, loggerFactory, TimeProvider.System, stop.Token,
                MasterProcess.TakeHttpSocket()).ConfigureAwait(false);
        }
        catch (Exception e) when (IsStartupFailure(e))
        {
            pidfile?.Dispose();
            await Console.Error.WriteLineAsync($"failmail: {StartupMessage(e)}").ConfigureAwait(false);
            return StartupError;
        }

        using (pidfile)
        {
            await using (services.ConfigureAwait(false))
            {
                _ = notifier.Ready();
                using var watchStop = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                var fatal = services.WatchAsync(TimeProvider.System, watchStop.Token);
                var masterWatch = masterPid is int master ? WatchMasterAsync(master, signals, logger, watchStop.Token) : Task.CompletedTask;
                var outcome = masterPid is int masterOfWorker
                    ? await ServeWorkerAsync(masterOfWorker, services, signals, logger, fatal, stop.Token).ConfigureAwait(false)
                    : await ServeAsync(options, services, signals, notifier, logger, fatal, stop.Token).ConfigureAwait(false);
                await watchStop.CancelAsync().ConfigureAwait(false);
                await masterWatch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (outcome == ServeOutcome.HandedOver)
                {
                    pidfile?.KeepForChild();
                }
                else
                {
                    _ = notifier.Stopping();
                    var shutdown = services.ShutdownAsync();
                    if (outcome == ServeOutcome.PartFailed)
                    {
                        // A stuck part may never let the shutdown finish: bound it, then exit 1
                        // anyway (every 250 is in the store; the restart takes it from there).
                        var bound = options.ShutdownTimeout + options.RelayTimeout + TimeSpan.FromSeconds(5);
                        await Task.WhenAny(shutdown, Task.Delay(bound, CancellationToken.None)).ConfigureAwait(false);
                        HostLog.Stopped(logger, RuntimeError);
                        return RuntimeError;
                    }
                    await shutdown.ConfigureAwait(false);
                }
            }
        }
        HostLog.Stopped(logger, 0);
        return 0;
    }

    private enum ServeOutcome
    {
        Stopped,
        HandedOver,
        PartFailed,
    }

    // Serves until a stop signal, a successful reload hand-off, or a part that stopped or got
    // stuck (fatal completes with the reason).
    private static async Task<ServeOutcome> ServeAsync(FailmailOptions options, FailmailServices services, SignalHandler signals,
        SystemdNotifier notifier, ILogger logger, Task<string> fatal, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var reload = signals.WaitForReloadAsync(stop);
            await Task.WhenAny(reload, fatal).ConfigureAwait(false);
            if (fatal.IsCompletedSuccessfully)
            {
                HostLog.PartFailed(logger, fatal.Result);
                return ServeOutcome.PartFailed;
            }
            try
            {
                await reload.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return ServeOutcome.Stopped;
            }
            if (services.Listener is null)
            {
                // --sender alone owns no socket to hand over; a restart picks up new settings.
                HostLog.ReloadFailed(logger, "no listening socket in this process (--sender alone); restart it instead");
                continue;
            }
            var args = Environment.GetCommandLineArgs();
            var program = ReloadHandOff.ResolveProgram(args.Length > 0 ? args[0] : null, Environment.ProcessPath);
            var child = ReloadHandOff.TryHandOff(services.Listener.ListenSocket, program, args.Skip(1).ToList(), notifier, logger);
            if (child is null)
            {
                continue;
            }
            HostLog.Draining(logger, options.ShutdownTimeout, services.Listener.OpenSessions);
            await services.HandOverAsync().ConfigureAwait(false);
            return ServeOutcome.HandedOver;
        }
        return ServeOutcome.Stopped;
    }

    // A worker under --master: SIGUSR2 from the master hands over (a new worker serves now);
    // SIGUSR1/SIGHUP are the master's to act on, not a worker's.
    private static async Task<ServeOutcome> ServeWorkerAsync(int masterPid, FailmailServices services, SignalHandler signals, ILogger logger,
        Task<string> fatal, CancellationToken stop)
    {
        var stopped = Task.Delay(Timeout.Infinite, stop);
        while (!stop.IsCancellationRequested)
        {
            var reload = signals.WaitForReloadAsync(stop);
            await Task.WhenAny(reload, fatal, signals.HandOverRequested, stopped).ConfigureAwait(false);
            if (fatal.IsCompletedSuccessfully)
            {
                HostLog.PartFailed(logger, fatal.Result);
                return ServeOutcome.PartFailed;
            }
            if (signals.HandOverRequested.IsCompleted)
            {
                await services.HandOverAsync().ConfigureAwait(false);
                return ServeOutcome.HandedOver;
            }
            if (reload.IsCompletedSuccessfully)
            {
                HostLog.WorkerIgnoresReload(logger, "SIGUSR1/SIGHUP", masterPid);
            }
        }
        return ServeOutcome.Stopped;
    }

    // A worker whose master is gone (killed) stops gracefully: nobody else will ever stop it,
    // and the supervisor is starting a new master that needs the port.
    private static async Task WatchMasterAsync(int masterPid, SignalHandler signals, ILogger logger, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (PosixNative.Getppid() != masterPid)
            {
                HostLog.MasterGone(logger, masterPid);
                signals.RequestShutdown();
                return;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool IsStartupFailure(Exception e) =>
        e is IOException or UnauthorizedAccessException or SocketException or CryptographicException
            or ArgumentException or FormatException or ExpressionException or ListenSocketException or PidfileException;

    private static string StartupMessage(Exception e) => e switch
    {
        SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } => "--bind-addr: address already in use: " + e.Message,
        _ => e.Message,
    };
}
