using Microsoft.Extensions.Logging;

namespace Failmail.Hosting;

// Process-level events: signals, reload, pidfile, inherited sockets, HTTP. Event ids 500-599.
internal static partial class HostLog
{
    [LoggerMessage(EventId = 500, EventName = "Starting", Level = LogLevel.Information, Message = "failmail {Version} starting, pid {Pid}")]
    public static partial void Starting(ILogger logger, string version, int pid);

    [LoggerMessage(EventId = 501, EventName = "ShutdownRequested", Level = LogLevel.Information, Message = "caught {Signal}: stopping gracefully (send it again to exit at once)")]
    public static partial void ShutdownRequested(ILogger logger, string signal);

    [LoggerMessage(EventId = 502, EventName = "ImmediateExit", Level = LogLevel.Warning, Message = "caught {Signal} again: exiting at once")]
    public static partial void ImmediateExit(ILogger logger, string signal);

    [LoggerMessage(EventId = 503, EventName = "ReloadRequested", Level = LogLevel.Information, Message = "caught {Signal}: reloading")]
    public static partial void ReloadRequested(ILogger logger, string signal);

    [LoggerMessage(EventId = 504, EventName = "ReloadChildStarted", Level = LogLevel.Information, Message = "reload: started {Program} as pid {ChildPid} with the listening socket at fd 3")]
    public static partial void ReloadChildStarted(ILogger logger, string program, int childPid);

    [LoggerMessage(EventId = 505, EventName = "ReloadFailed", Level = LogLevel.Error, Message = "reload failed, still serving: {Reason}")]
    public static partial void ReloadFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 506, EventName = "SocketInherited", Level = LogLevel.Information, Message = "accepting on inherited socket fd {Fd} ({Endpoint})")]
    public static partial void SocketInherited(ILogger logger, int fd, string endpoint);

    [LoggerMessage(EventId = 507, EventName = "PidfileWritten", Level = LogLevel.Debug, Message = "pidfile {Path} holds {Pid}")]
    public static partial void PidfileWritten(ILogger logger, string path, int pid);

    [LoggerMessage(EventId = 508, EventName = "PidfileStale", Level = LogLevel.Warning, Message = "pidfile {Path} named process {StalePid}, which is not running: replaced")]
    public static partial void PidfileStale(ILogger logger, string path, int stalePid);

    [LoggerMessage(EventId = 509, EventName = "HttpListening", Level = LogLevel.Information, Message = "HTTP stats listening on {Endpoint}")]
    public static partial void HttpListening(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 510, EventName = "Unhealthy", Level = LogLevel.Warning, Message = "health check failing: {Reason}")]
    public static partial void Unhealthy(ILogger logger, string reason);

    [LoggerMessage(EventId = 511, EventName = "Draining", Level = LogLevel.Information, Message = "stopped accepting; waiting up to {Timeout} for {Sessions} open sessions")]
    public static partial void Draining(ILogger logger, TimeSpan timeout, int sessions);

    [LoggerMessage(EventId = 512, EventName = "Stopped", Level = LogLevel.Information, Message = "failmail stopped, exit status {ExitCode}")]
    public static partial void Stopped(ILogger logger, int exitCode);

    [LoggerMessage(EventId = 513, EventName = "HttpConnectionFailed", Level = LogLevel.Warning, Message = "HTTP stats connection failed: {Reason}")]
    public static partial void HttpConnectionFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 520, Level = LogLevel.Warning, Message = "--relay-all needs the sender half in this process; ignored with --receiver alone")]
    public static partial void RelayAllNeedsSender(ILogger logger);

    [LoggerMessage(EventId = 530, Level = LogLevel.Information, Message = "the master started a new worker: draining, then exiting")]
    public static partial void HandOverRequested(ILogger logger);

    [LoggerMessage(EventId = 531, Level = LogLevel.Information, Message = "failmail master {Version}, pid {Pid}: the SMTP socket stays here; workers serve it (SIGUSR1/SIGHUP: new worker; SIGTERM: stop)")]
    public static partial void MasterStarting(ILogger logger, string version, int pid);

    [LoggerMessage(EventId = 532, Level = LogLevel.Information, Message = "master: started worker pid {WorkerPid} ({Program}){Reason}")]
    public static partial void WorkerStarted(ILogger logger, int workerPid, string program, string reason);

    [LoggerMessage(EventId = 533, Level = LogLevel.Information, Message = "master: worker pid {WorkerPid} exited with status {Status}")]
    public static partial void WorkerExited(ILogger logger, int workerPid, int status);

    [LoggerMessage(EventId = 534, Level = LogLevel.Error, Message = "master: worker pid {WorkerPid} ended unexpectedly with status {Status}; starting another in {Delay}")]
    public static partial void WorkerCrashed(ILogger logger, int workerPid, int status, TimeSpan delay);

    [LoggerMessage(EventId = 535, Level = LogLevel.Error, Message = "master: cannot start a worker: {Reason}")]
    public static partial void WorkerStartFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 536, Level = LogLevel.Warning, Message = "caught {Signal} in a worker: reloads are the master's (pid {MasterPid}); ignored")]
    public static partial void WorkerIgnoresReload(ILogger logger, string signal, int masterPid);

    [LoggerMessage(EventId = 537, Level = LogLevel.Warning, Message = "the master (pid {MasterPid}) is gone: stopping")]
    public static partial void MasterGone(ILogger logger, int masterPid);

    [LoggerMessage(EventId = 538, Level = LogLevel.Information, Message = "master: stopped, exit status {Status}")]
    public static partial void MasterStopped(ILogger logger, int status);

    [LoggerMessage(EventId = 539, Level = LogLevel.Information, Message = "master: SMTP listening on {EndPoint}")]
    public static partial void MasterListening(ILogger logger, string endPoint);

    [LoggerMessage(EventId = 521, Level = LogLevel.Warning, Message = "reload parent {Pid} still runs after {Bound}; starting the batcher and relay anyway")]
    public static partial void ReloadParentLingers(ILogger logger, int pid, TimeSpan bound);

    [LoggerMessage(EventId = 522, Level = LogLevel.Critical, Message = "stopping with exit status 1 so the supervisor restarts failmail: {Reason}")]
    public static partial void PartFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 523, Level = LogLevel.Error, Message = "the {Part} had failed before the stop")]
    public static partial void PartEndedWithError(ILogger logger, Exception exception, string part);
}
