using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Failmail.Hosting;

// Process control (spec §8.1, done right per §10.8): SIGINT/SIGTERM request a graceful
// shutdown and a second one exits at once; SIGUSR1 and SIGHUP request a reload hand-off.
// Signals arriving before Register are the runtime's default (termination); register early.
internal sealed class SignalHandler : IDisposable
{
    // SIGUSR1 has no PosixSignal member; raw numbers are accepted when cast (Linux x64: 10).
    private const PosixSignal SigUsr1 = (PosixSignal)PosixNative.SigUsr1;
    private const PosixSignal SigUsr2 = (PosixSignal)PosixNative.SigUsr2;

    private readonly ILogger _logger;
    private readonly Action<int> _exit;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly SemaphoreSlim _reloads = new(0);
    private readonly TaskCompletionSource _handOver = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _stopSignals;
    private bool _handOverRegistered;
    private bool _disposed;

    // exit is how a second stop signal ends the process (default Environment.Exit); tests
    // pass their own. Nothing is lost by it: a message is acknowledged only once fsynced.
    // The console logger writes from a queue: an exit that first disposes the logger factory
    // gets the "exiting at once" line out too.
    public SignalHandler(ILogger logger, Action<int>? exit = null)
    {
        _logger = logger;
        _exit = exit ?? Environment.Exit;
    }

    // Cancelled by the first SIGINT or SIGTERM (or RequestShutdown).
    public CancellationToken ShutdownToken => _shutdown.Token;

    public void Register()
    {
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal));
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal));
        _registrations.Add(PosixSignalRegistration.Create(SigUsr1, OnSignal));
    }

    // A worker under the master (Hosting/MasterProcess): SIGUSR2 is the master's "a new worker
    // serves now: stop accepting, drain, and exit without the final flush".
    public void RegisterHandOver()
    {
        _handOverRegistered = true;
        _registrations.Add(PosixSignalRegistration.Create(SigUsr2, OnSignal));
    }

    public Task HandOverRequested => _handOver.Task;

    // Completes once per SIGUSR1/SIGHUP received; signals that arrive while nobody waits are
    // kept and complete later calls.
    public Task WaitForReloadAsync(CancellationToken cancellationToken) => _reloads.WaitAsync(cancellationToken);

    public void RequestShutdown() => HandleStop(PosixNative.SigTerm);

    // The decision for one signal; true means the runtime's default action is cancelled.
    internal bool Handle(int signal)
    {
        switch (signal)
        {
            case PosixNative.SigInt or PosixNative.SigTerm:
                HandleStop(signal);
                return true;
            case PosixNative.SigUsr2 when _handOverRegistered:
                HostLog.HandOverRequested(_logger);
                _handOver.TrySetResult();
                return true;
            case PosixNative.SigHup or PosixNative.SigUsr1:
                var name = SignalName(signal);
                HostLog.ReloadRequested(_logger, name);
                _reloads.Release();
                return true;
            default:
                return false;
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
        _registrations.Clear();
        Volatile.Write(ref _disposed, true);
        _shutdown.Dispose();
        _reloads.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = Handle((int)context.Signal switch
        {
            (int)PosixSignal.SIGINT => PosixNative.SigInt,
            (int)PosixSignal.SIGTERM => PosixNative.SigTerm,
            (int)PosixSignal.SIGHUP => PosixNative.SigHup,
            var raw => raw,
        });
    }

    private void HandleStop(int signal)
    {
        var name = SignalName(signal);
        if (Interlocked.Increment(ref _stopSignals) == 1)
        {
            // A handler already running when Dispose unregistered it finds the process on its
            // way out: nothing is left to cancel.
            if (Volatile.Read(ref _disposed))
            {
                return;
            }
            HostLog.ShutdownRequested(_logger, name);
            try
            {
                _shutdown.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
            return;
        }
        // The shell convention for death by signal; supervisors read it as "killed".
        HostLog.ImmediateExit(_logger, name);
        _exit(128 + signal);
    }

    private static string SignalName(int signal) => signal switch
    {
        PosixNative.SigHup => "SIGHUP",
        PosixNative.SigInt => "SIGINT",
        PosixNative.SigUsr1 => "SIGUSR1",
        PosixNative.SigTerm => "SIGTERM",
        _ => "signal " + signal,
    };
}
