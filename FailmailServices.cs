using System.Net.Sockets;
using Failmail.Batching;
using Failmail.Hosting;
using Failmail.Intake;
using Failmail.Maildir;
using Failmail.Relay;
using Failmail.Rewriting;
using Failmail.Sendmail;
using Failmail.Smtp;
using Microsoft.Extensions.Logging;

namespace Failmail;

// Builds the running parts from the options and owns their lifetimes: the incoming store,
// the SMTP listener (receiver half), the batcher and relay (sender half) and the HTTP server.
// Construction order is dependency order; every constructor that can fail on bad settings
// (a broken expression, an unwritable store, a port in use) fails here, before READY=1.
internal sealed class FailmailServices : IAsyncDisposable
{
    private readonly FailmailOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopBatcher = new();
    private readonly CancellationTokenSource _abortFlush = new();
    private readonly CancellationTokenSource _stopRelay = new();
    private readonly List<IDisposable> _disposables = [];
    private SpoolImporter? _spoolImporter;
    private Task _batcherTask = Task.CompletedTask;
    private Task _relayTask = Task.CompletedTask;
    private PartWatch? _parts;

    private FailmailServices(FailmailOptions options, ILogger logger, IMessageStore store)
    {
        _options = options;
        _logger = logger;
        Store = store;
    }

    public IMessageStore Store { get; }

    public SmtpListener? Listener { get; private set; }

    public BatcherService? Batcher { get; private set; }

    public RelayService? Relay { get; private set; }

    public HttpStatsServer? Http { get; private set; }

    public Quarantine? Quarantine { get; private set; }

    // Completes with the reason once a part has stopped or stayed stuck (PartWatch.Fatal):
    // the host then ends the process with a non-zero exit. Checks every second.
    public async Task<string> WatchAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken).ConfigureAwait(false);
            if (_parts?.Fatal() is { } fatal)
            {
                return fatal;
            }
        }
    }

    // inheritedSocket: from --socket-fd or systemd, else bind --bind-addr.
    // reloadParent: the reloading process that started us. It still drains its sessions and
    // sends what falls due meanwhile, so this process takes mail at once but starts its
    // batcher and relay only once the parent has exited: then they load the store and the
    // queue whole, and no batch or queued digest is ever worked on by both.
    public static async Task<FailmailServices> StartAsync(FailmailOptions options, Socket? inheritedSocket, int? reloadParent,
        ILoggerFactory loggerFactory, TimeProvider time, CancellationToken cancellationToken)
    {
        var logger = loggerFactory.CreateLogger("Failmail.Host");
        // Recovery deletes unfinished drafts, so it is only for a store no live process writes:
        // not while a reload parent still drains, nor beside a running --receiver.
        var incomingShared = reloadParent is not null || !options.RunReceiver;
        var store = OpenStore(options, "--message-store", options.MessageStore, incomingShared, loggerFactory, time, log: true);
        var services = new FailmailServices(options, logger, store);
        try
        {
            await services.StartPartsAsync(inheritedSocket, reloadParent, loggerFactory, time, cancellationToken).ConfigureAwait(false);
            return services;
        }
        catch
        {
            await services.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    // SIGINT/SIGTERM: stop taking mail, let sessions finish, hand every pending batch to the
    // relay queue, give the relay one last go, and stop.
    public async Task ShutdownAsync()
    {
        _parts?.Stopping();
        StopSpoolImporter();
        if (Listener is not null)
        {
            await Listener.StopAsync(_options.ShutdownTimeout).ConfigureAwait(false);
        }
        // The flush only writes digests into the durable outgoing queue; bound it anyway.
        _abortFlush.CancelAfter(_options.ShutdownTimeout + _options.RelayTimeout);
        await _stopBatcher.CancelAsync().ConfigureAwait(false);
        await _batcherTask.ConfigureAwait(false);
        await _stopRelay.CancelAsync().ConfigureAwait(false);
        await _relayTask.ConfigureAwait(false);
    }

    // Reload: the child already accepts on the same socket. This process lets its open
    // sessions finish, sending whatever falls due meanwhile, and then stops without a flush
    // or a last relay attempt: the child, which starts its batcher and relay once we have
    // exited, loads the store and the queue whole. Only a memory store, which the child
    // cannot see, is flushed and drained as at shutdown.
    public async Task HandOverAsync()
    {
        _parts?.Stopping();
        // The child imports the spool and polls the queue from now on: doing it twice would
        // duplicate a message.
        StopSpoolImporter();
        Relay?.StopQueuePoll();
        if (Listener is not null)
        {
            await Listener.StopAsync(_options.ShutdownTimeout).ConfigureAwait(false);
        }
        if (!_options.MemoryStore)
        {
            Batcher?.SkipFlushOnStop();
            Relay?.SkipDrainOnStop();
        }
        await _stopBatcher.CancelAsync().ConfigureAwait(false);
        await _batcherTask.ConfigureAwait(false);
        await _stopRelay.CancelAsync().ConfigureAwait(false);
        await _relayTask.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Http is not null)
        {
            await Http.DisposeAsync().ConfigureAwait(false);
        }
        if (Listener is not null)
        {
            await Listener.DisposeAsync().ConfigureAwait(false);
        }
        if (Relay is not null)
        {
            await Relay.DisposeAsync().ConfigureAwait(false);
        }
        StopSpoolImporter();
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }
        if (Store is IDisposable store)
        {
            store.Dispose();
        }
        _stopBatcher.Dispose();
        _abortFlush.Dispose();
        _stopRelay.Dispose();
    }

    // A reload parent exits within --shutdown-timeout plus its final relay work; past a
    // generous bound the child goes ahead rather than never send anything.
    private async Task WaitForExitAsync(int pid)
    {
        var bound = _options.ShutdownTimeout + _options.RelayTimeout + TimeSpan.FromSeconds(30);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (PosixNative.ProcessExists(pid))
        {
            if (waited.Elapsed > bound)
            {
                HostLog.ReloadParentLingers(_logger, pid, bound);
                return;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50)).ConfigureAwait(false);
        }
    }

    // Idempotent: shutdown, hand-over and dispose all stop it.
    private void StopSpoolImporter()
    {
        _spoolImporter?.Dispose();
        _spoolImporter = null;
    }

    private async Task StartPartsAsync(Socket? inheritedSocket, int? reloadParent, ILoggerFactory loggerFactory, TimeProvider time, CancellationToken cancellationToken)
    {
        IMessageSink sink = StoreOnlySink.Instance;
        if (_options.RunSender)
        {
            var outgoing = OpenStore(_options, "--queue-dir", _options.QueueDir, shared: reloadParent is not null, loggerFactory, time);
            if (outgoing is IDisposable disposable)
            {
                _disposables.Add(disposable);
            }
            var transport = RelayTransportFactory.Create(_options, time, Console.OpenStandardOutput(), loggerFactory);
            Relay = new RelayService(_options, outgoing, transport, loggerFactory, time);
            Quarantine = new Quarantine(_options.QuarantineDir);
            // --sender alone: the receiver is another process, so poll the store for its mail.
            var pollStore = !_options.RunReceiver;
            Batcher = new BatcherService(_options, Store, Relay, loggerFactory, time, pollStore, BatcherService.DefaultIntakeGather, Quarantine);
            sink = _options.RelayAll ? new RelayAllSink(Batcher, Store, Relay) : Batcher;
        }
        else if (_options.RelayAll)
        {
            HostLog.RelayAllNeedsSender(_logger);
        }

        if (_options.RunReceiver)
        {
            var addresses = AddressRewriter.Create(_options);
            Listener = new SmtpListener(_options, Store, sink, loggerFactory, time, addresses);
            Listener.Start(inheritedSocket);
            _spoolImporter = await SpoolImporter.StartAsync(_options, Store, sink, addresses, loggerFactory, time, cancellationToken).ConfigureAwait(false);
        }

        _parts = new PartWatch(time);
        if (_spoolImporter is { } importer)
        {
            _parts.Add("spool importer", null, () => importer.BusySince, PartStallMinimum);
        }
        var stats = new ServiceStats(Store, Listener, Batcher, Relay, time, Quarantine, _parts);
        Http = await HttpStatsServer.StartAsync(_options.BindHttp, stats, loggerFactory, time, cancellationToken: cancellationToken)
            .ConfigureAwait(false);

        if (Relay is not null && Batcher is not null)
        {
            var relay = Relay;
            var batcher = Batcher;
            var parentGone = reloadParent is int parent ? WaitForExitAsync(parent) : Task.CompletedTask;
            _relayTask = Task.Run(async () =>
            {
                await parentGone.ConfigureAwait(false);
                await relay.RunAsync(_stopRelay.Token).ConfigureAwait(false);
            }, CancellationToken.None);
            _batcherTask = Task.Run(async () =>
            {
                await parentGone.ConfigureAwait(false);
                await batcher.RunAsync(_stopBatcher.Token, _abortFlush.Token).ConfigureAwait(false);
            }, CancellationToken.None);
            // The batcher's steps are file work and hand-offs into the durable queue; the
            // relay's attempts are bounded by --relay-timeout per operation.
            var poll = _options.Poll > TimeSpan.Zero ? _options.Poll : TimeSpan.FromSeconds(1);
            _parts.Add("batcher", _batcherTask, () => batcher.BusySince, Max(PartStallMinimum, poll * 4));
            _parts.Add("relay worker", _relayTask, () => relay.BusySince, PartStallMinimum + _options.RelayTimeout * 6);
        }
    }

    // No part is judged stuck sooner than this: a slow disk or a busy machine is not a fault.
    private static readonly TimeSpan PartStallMinimum = TimeSpan.FromMinutes(1);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    // --memory-store keeps both the incoming store and the outgoing queue in this process.
    // shared: another live failmail writes this store too, so skip crash recovery.
    // A store that cannot be opened is a start-up error naming its flag.
    // log: the incoming store, which takes every received message, appends them to a log
    // (LogMessageStore); the outgoing queue holds one file per digest.
    private static IMessageStore OpenStore(FailmailOptions options, string flag, string path, bool shared, ILoggerFactory loggerFactory, TimeProvider time,
        bool log = false)
    {
        if (options.MemoryStore)
        {
            return new MemoryMessageStore();
        }
        try
        {
            if (log)
            {
                return shared
                    ? LogMessageStore.OpenForAppend(path, loggerFactory, time)
                    : new LogMessageStore(path, loggerFactory, time);
            }
            return shared
                ? MaildirMessageStore.OpenForAppend(path, loggerFactory, time)
                : new MaildirMessageStore(path, loggerFactory, time);
        }
        catch (IOException e)
        {
            throw new IOException($"{flag} {path}: {MaildirPathError.Describe(path, e)}", e);
        }
    }
}
