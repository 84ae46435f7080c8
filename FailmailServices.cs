using System.Net.Sockets;
using Failmail.Api;
using Failmail.Batching;
using Failmail.History;
using Failmail.Hosting;
using Failmail.Intake;
using Failmail.Maildir;
using Failmail.Maildir.Log;
using Failmail.Outputs;
using Failmail.Relay;
using Failmail.Rewriting;
using Failmail.Sendmail;
using Failmail.Silences;
using Failmail.Smtp;
using Microsoft.Extensions.Logging;

namespace Failmail;

// Builds the running parts from the options and owns their lifetimes: the incoming store,
// the outgoing queue, the relay worker and batcher (sender half), the SMTP listener and spool
// importer (receiver half) and the HTTP server, each a ServicePart in start order. Stopping
// is one sequence with a mode (StopMode): every part prepares, then stops, in reverse order.
// Construction order is dependency order; every constructor that can fail on bad settings
// (a broken expression, an unwritable store, a port in use) fails here, before READY=1.
internal sealed class FailmailServices : IAsyncDisposable
{
    private readonly FailmailOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    // In start order; stopped and disposed in reverse (ServicePart).
    private readonly List<ServicePart> _running = [];
    private PartWatch? _watch;
    private bool _stopped;

    private FailmailServices(FailmailOptions options, ILogger logger, IMessageStore store, TimeProvider time)
    {
        _options = options;
        _logger = logger;
        _time = time;
        Store = store;
        _running.Add(new ServicePart("incoming store")
        {
            Dispose = () =>
            {
                (store as IDisposable)?.Dispose();
                return ValueTask.CompletedTask;
            },
        });
    }

    public IMessageStore Store { get; }

    public SmtpListener? Listener { get; private set; }

    public BatcherService? Batcher { get; private set; }

    public RelayService? Relay { get; private set; }

    public HttpStatsServer? Http { get; private set; }

    public Quarantine? Quarantine { get; private set; }

    public DigestHistory? History { get; private set; }

    public SilenceBook? Silences { get; private set; }
    // The outputs of --transport-map, or null without one (every digest goes to the relay).
    public OutputSet? Outputs { get; private set; }

    // Completes with the reason once a part has stopped or stayed stuck (PartWatch.Fatal):
    // the host then ends the process with a non-zero exit. Checks every second.
    public async Task<string> WatchAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken).ConfigureAwait(false);
            if (_watch?.Fatal() is { } fatal)
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
    // httpSocket: the HTTP listening socket a --master holds for its workers (else bound here).
    public static async Task<FailmailServices> StartAsync(FailmailOptions options, Socket? inheritedSocket, int? reloadParent,
        ILoggerFactory loggerFactory, TimeProvider time, CancellationToken cancellationToken, Socket? httpSocket = null)
    {
        var logger = loggerFactory.CreateLogger("Failmail.Host");
        // Recovery deletes unfinished drafts, so it is only for a store no live process writes:
        // not while a reload parent still drains, nor beside a running --receiver.
        var incomingShared = reloadParent is not null || !options.RunReceiver;
        var store = OpenStore(options, "--message-store", options.MessageStore, incomingShared, loggerFactory, time, log: true);
        var services = new FailmailServices(options, logger, store, time);
        try
        {
            await services.StartPartsAsync(inheritedSocket, reloadParent, loggerFactory, time, httpSocket, cancellationToken).ConfigureAwait(false);
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
    public Task ShutdownAsync() => StopAsync(StopMode.Shutdown);

    // Reload: the child already accepts on the same socket. This process lets its open
    // sessions finish, sending whatever falls due meanwhile, and then stops without a flush
    // or a last relay attempt: the child, which starts its batcher and relay once we have
    // exited, loads the store and the queue whole. Only a memory store, which the child
    // cannot see, is flushed and drained as at shutdown.
    public Task HandOverAsync() => StopAsync(StopMode.HandOver);

    // The one stop sequence: every part prepares, then every part stops, in reverse start order.
    private async Task StopAsync(StopMode mode)
    {
        if (_stopped)
        {
            return;
        }
        _stopped = true;
        _watch?.Stopping();
        var parts = Enumerable.Reverse(_running).ToList();
        foreach (var part in parts)
        {
            part.Prepare?.Invoke(mode);
        }
        foreach (var part in parts)
        {
            if (part.Stop is { } stop)
            {
                await stop(mode).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _watch?.Stopping();
        foreach (var part in Enumerable.Reverse(_running).ToList())
        {
            if (part.Dispose is { } dispose)
            {
                await dispose().ConfigureAwait(false);
            }
        }
        _running.Clear();
    }

    // A reload parent exits within --shutdown-timeout plus its final relay work; past a
    // generous bound the child goes ahead rather than never send anything.
    private async Task WaitForExitAsync(int pid)
    {
        var bound = _options.ShutdownTimeout + _options.RelayTimeout + TimeSpan.FromSeconds(30);
        var started = _time.GetTimestamp();
        while (PosixNative.ProcessExists(pid))
        {
            if (_time.GetElapsedTime(started) > bound)
            {
                HostLog.ReloadParentLingers(_logger, pid, bound);
                return;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), _time).ConfigureAwait(false);
        }
    }

    private async Task StartPartsAsync(Socket? inheritedSocket, int? reloadParent, ILoggerFactory loggerFactory, TimeProvider time, Socket? httpSocket,
        CancellationToken cancellationToken)
    {
        _watch = new PartWatch(time);
        IMessageSink sink = StoreOnlySink.Instance;
        // Built once (it reads the alias and canonical files): the receiver rewrites received
        // mail with it, the sender its own --from on each digest.
        var addresses = AddressRewriter.Create(_options);
        // Issue 15: the API's settings, the digest history and the silences (both on disk).
        var apiSettings = ApiSettings.From(_options);
        History = new DigestHistory(apiSettings.HistoryDir, apiSettings.HistorySize);
        Silences = SilenceBook.Open(apiSettings.SilencesFile, time);
        if (_options.RunSender)
        {
            var outgoing = OpenStore(_options, "--queue-dir", _options.QueueDir, shared: reloadParent is not null, loggerFactory, time);
            _running.Add(new ServicePart("outgoing queue")
            {
                Dispose = () =>
                {
                    (outgoing as IDisposable)?.Dispose();
                    return ValueTask.CompletedTask;
                },
            });
            // Parsed and checked once, here, into the relay's own settings record; digests are
            // built to the relay's SIZE once it has said it (issue 13).
            // Digests say who they are from as any mail passing this host: --from through the
            // canonical maps and masquerading (the envelope and the From header each by scope).
            var relaySettings = RelaySettings.From(_options) with { Sender = addresses.RewriteDigestSender(_options.From, envelope: true) };
            var digestLimits = DigestLimits.From(_options);
            var transport = RelayTransportFactory.Create(relaySettings, time, Console.OpenStandardOutput(), loggerFactory, digestLimits.ObserveRelayLimit);
            Relay = new RelayService(relaySettings, outgoing, transport, loggerFactory, time) { History = History };
            Quarantine = new Quarantine(_options.QuarantineDir);
            // --transport-map: the batcher's digests go through the router to the outputs'
            // durable queues and/or the relay; without one, straight to the relay as before.
            IDigestSender sender = Relay;
            var outputSettings = OutputSettings.From(_options);
            if (outputSettings.Map.Outputs.Count > 0 || outputSettings.MapPath.Length > 0)
            {
                var outputs = OutputSet.Create(outputSettings, Relay, Store, loggerFactory, time, recover: reloadParent is null, history: History);
                Outputs = outputs;
                sender = outputs.Router;
                _running.Add(new ServicePart("outputs") { Dispose = outputs.DisposeAsync });
            }
            // --sender alone: the receiver is another process, so poll the store for its mail.
            var pollStore = !_options.RunReceiver;
            var batchSettings = BatchSettings.From(_options with { From = addresses.RewriteDigestSender(_options.From, envelope: false) }, digestLimits);
            Batcher = new BatcherService(batchSettings, Store, sender, loggerFactory, time, pollStore, BatcherService.DefaultIntakeGather, Quarantine)
            {
                Silences = new SilenceGate(Silences, time, History, string.IsNullOrEmpty(_options.AllDir) ? null : new MaildirWriter(_options.AllDir)),
            };
            sink = _options.RelayAll ? new RelayAllSink(Batcher, Store, Relay) : Batcher;
            // A reload child starts its batcher and relay only once the parent has gone.
            var parentGone = new Lazy<Task>(() => reloadParent is int parent ? WaitForExitAsync(parent) : Task.CompletedTask);
            _running.Add(RelayPart(Relay, parentGone));
            foreach (var worker in Outputs?.Workers ?? [])
            {
                _running.Add(OutputPart(worker, parentGone));
            }
            _running.Add(BatcherPart(Batcher, parentGone));
        }
        else if (_options.RelayAll)
        {
            HostLog.RelayAllNeedsSender(_logger);
        }

        if (_options.RunReceiver)
        {
            var smtpSettings = SmtpSettings.From(_options);
            var listener = new SmtpListener(smtpSettings, Store, sink, loggerFactory, time, addresses);
            Listener = listener;
            _running.Add(new ServicePart("smtp listener")
            {
                Stop = _ => listener.StopAsync(_options.ShutdownTimeout),
                Dispose = listener.DisposeAsync,
            });
            listener.Start(inheritedSocket);
            // The spool's door into the store is SMTP's own intake: same checks, same rewriting.
            var importer = SpoolImporter.Start(new SpoolImporter(SpoolSettings.From(_options), listener.Intake, loggerFactory, time), cancellationToken);
            // Stopped before the listener drains, in both modes: a reload child imports the
            // spool from now on, and importing twice would duplicate a message.
            _running.Add(new ServicePart("spool importer")
            {
                Prepare = _ => importer.Dispose(),
                Dispose = () =>
                {
                    importer.Dispose();
                    return ValueTask.CompletedTask;
                },
            });
            _watch.Add("spool importer", null, () => importer.BusySince, PartStallMinimum);
        }

        var outputSet = Outputs;
        var stats = new ServiceStats(Store, Listener, Batcher, Relay, time, Quarantine, _watch)
        {
            OutputSource = outputSet is null ? null : () => outputSet.Status,
            OutputFailureThreshold = _options.QueueLifetime,
        };
        var api = new ApiServer(apiSettings, stats, Batcher, Relay, History, Silences, time);
        var http = await HttpStatsServer.StartAsync(_options.BindHttp, stats, loggerFactory, time, api: api, certificate: apiSettings.Certificate,
            listening: httpSocket, cancellationToken: cancellationToken).ConfigureAwait(false);
        Http = http;
        if (http is not null)
        {
            api.Start();
            _running.Add(new ServicePart("http")
            {
                Dispose = async () =>
                {
                    await http.DisposeAsync().ConfigureAwait(false);
                    await api.DisposeAsync().ConfigureAwait(false);
                },
            });
        }
        foreach (var part in _running)
        {
            part.Start?.Invoke();
        }
    }

    // The delivery worker. Its attempts are bounded by --relay-timeout per operation.
    private ServicePart RelayPart(RelayService relay, Lazy<Task> parentGone)
    {
        var stop = new CancellationTokenSource();
        var task = Task.CompletedTask;
        return new ServicePart("relay worker")
        {
            Start = () =>
            {
                task = Task.Run(async () =>
                {
                    await parentGone.Value.ConfigureAwait(false);
                    await relay.RunAsync(stop.Token).ConfigureAwait(false);
                }, CancellationToken.None);
                _watch?.Add("relay worker", task, () => relay.BusySince, PartStallMinimum + _options.RelayTimeout * 6);
            },
            Prepare = mode =>
            {
                if (mode == StopMode.HandOver)
                {
                    // From now on the child owns the queue: its poll must be the only one.
                    relay.StopQueuePoll();
                    if (!_options.MemoryStore)
                    {
                        relay.SkipDrainOnStop();
                    }
                }
            },
            Stop = async _ =>
            {
                await stop.CancelAsync().ConfigureAwait(false);
                await EndedAsync("relay worker", task).ConfigureAwait(false);
            },
            Dispose = async () =>
            {
                await relay.DisposeAsync().ConfigureAwait(false);
                stop.Dispose();
            },
        };
    }

    // One output's delivery worker (Outputs/OutputWorker). Its posts are bounded by
    // --relay-timeout; what is left stays in its durable queue for the next start.
    private ServicePart OutputPart(OutputWorker worker, Lazy<Task> parentGone)
    {
        var stop = new CancellationTokenSource();
        var task = Task.CompletedTask;
        var name = "output " + worker.Target.Id;
        return new ServicePart(name)
        {
            Start = () =>
            {
                task = Task.Run(async () =>
                {
                    await parentGone.Value.ConfigureAwait(false);
                    await worker.RunAsync(stop.Token).ConfigureAwait(false);
                }, CancellationToken.None);
                _watch?.Add(name, task, () => worker.BusySince, PartStallMinimum + _options.RelayTimeout * 6);
            },
            Prepare = mode =>
            {
                // The reload child posts the queue; a memory queue it cannot see is drained here.
                if (mode == StopMode.HandOver && !_options.MemoryStore)
                {
                    worker.SkipDrainOnStop();
                }
            },
            Stop = async _ =>
            {
                await stop.CancelAsync().ConfigureAwait(false);
                await EndedAsync(name, task).ConfigureAwait(false);
            },
            Dispose = () =>
            {
                stop.Dispose();
                return ValueTask.CompletedTask;
            },
        };
    }

    // The batcher loop. Its steps are file work and hand-offs into the durable queue.
    private ServicePart BatcherPart(BatcherService batcher, Lazy<Task> parentGone)
    {
        var stop = new CancellationTokenSource();
        var abortFlush = new CancellationTokenSource();
        var task = Task.CompletedTask;
        return new ServicePart("batcher")
        {
            Start = () =>
            {
                task = Task.Run(async () =>
                {
                    await parentGone.Value.ConfigureAwait(false);
                    await batcher.RunAsync(stop.Token, abortFlush.Token).ConfigureAwait(false);
                }, CancellationToken.None);
                var poll = _options.Poll > TimeSpan.Zero ? _options.Poll : TimeSpan.FromSeconds(1);
                _watch?.Add("batcher", task, () => batcher.BusySince, Max(PartStallMinimum, poll * 4));
            },
            Prepare = mode =>
            {
                if (mode == StopMode.HandOver && !_options.MemoryStore)
                {
                    batcher.SkipFlushOnStop();
                }
            },
            Stop = async _ =>
            {
                // The flush only writes digests into the durable outgoing queue; bound it anyway.
                abortFlush.CancelAfter(_options.ShutdownTimeout + _options.RelayTimeout);
                await stop.CancelAsync().ConfigureAwait(false);
                await EndedAsync("batcher", task).ConfigureAwait(false);
            },
            Dispose = () =>
            {
                stop.Dispose();
                abortFlush.Dispose();
                return ValueTask.CompletedTask;
            },
        };
    }

    // A part's task at stop: one that had already failed is logged here, once, so the stop
    // sequence goes on to the parts after it (everything acknowledged is in the store).
    private async Task EndedAsync(string part, Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            HostLog.PartEndedWithError(_logger, e, part);
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
