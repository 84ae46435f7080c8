using System.Buffers;
using Failmail.Intake;
using Failmail.Maildir;
using Failmail.Rewriting;
using Failmail.Smtp;
using Failmail.Timing;
using Microsoft.Extensions.Logging;

namespace Failmail.Sendmail;

// The daemon's side of the spool that `failmail sendmail` writes while the daemon is down
// (--spool-dir, a maildir). At start and then every --poll, each entry in new/ is imported
// exactly as the SMTP receiver would take the message (same limits, same address grammar,
// same rewriting, same store): commit into the incoming store, hand to the sink, and only then
// delete the spool file. A crash between the commit and the delete imports the message twice
// at worst; it is never lost. A sink that refuses is logged like SmtpDelivery does: the
// committed message stays pending in the store for the batcher.
// Anyone who can run sendmail can write new/, so every entry is untrusted: SpoolEntry opens
// regular files within the size limit only, SpoolEnvelopeReader parses the envelope strictly,
// the message streams into the draft with a byte cap, and a refused entry goes to bad/ with
// its reason (SpoolQuarantine), one warning each. Nothing in an entry can block the import,
// and the import never holds up start-up: the first pass runs beside it.
internal sealed class SpoolImporter : IDisposable
{
    // One read's worth; never less than an envelope line and its line end (SpoolEnvelopeReader).
    private const int ChunkSize = 64 * 1024;

    // The sending host of a spooled message (issue 13): this machine, which ran `sendmail`.
    private static readonly Lazy<string> LocalHost = new(FailmailOptions.HostName);

    private readonly SpoolSettings _settings;
    private readonly string _spoolDir;
    private readonly SpoolLimits _limits;
    private readonly int _bufferSize;
    private readonly SpoolQuarantine _quarantine;
    private readonly MessageIntake _intake;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _running = new(1, 1);
    private ITimer? _timer;
    // The pass in progress and its last entry, idle between passes: a pass that hangs (on a
    // file system that stopped answering, say) shows on /healthz and ends the process.
    private readonly BusyClock _busy;
    private int _disposed;

    // When the pass in progress last moved on (monotonic), or null between passes.
    public long? BusySince => _busy.Since;

    public SpoolImporter(FailmailOptions options, IMessageStore store, IMessageSink sink, AddressRewriter addresses,
        ILoggerFactory loggerFactory, TimeProvider time)
        : this(SpoolSettings.From(options), new MessageIntake(store, sink, addresses, RecipientRewriter.From(options), time), loggerFactory, time)
    {
    }

    // intake: the same as SMTP's (the same address checks, rewriting, commit and hand-off).
    public SpoolImporter(SpoolSettings settings, MessageIntake intake, ILoggerFactory loggerFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _settings = settings;
        _spoolDir = settings.Dir;
        _limits = settings.Limits;
        _bufferSize = Math.Max(ChunkSize, _limits.MaxEnvelopeLine + 2);
        _quarantine = new SpoolQuarantine(_spoolDir);
        _intake = intake ?? throw new ArgumentNullException(nameof(intake));
        _logger = loggerFactory.CreateLogger("Failmail.Sendmail");
        _time = time;
        _busy = new BusyClock(time);
    }

    // Starts importing what is spooled now, beside start-up (the host's start and its signal
    // handling never wait for the spool), then keeps importing every poll until disposed.
    public static Task<SpoolImporter> StartAsync(FailmailOptions options, IMessageStore store, IMessageSink sink,
        AddressRewriter addresses, ILoggerFactory loggerFactory, TimeProvider time, CancellationToken cancellationToken) =>
        Task.FromResult(Start(new SpoolImporter(options, store, sink, addresses, loggerFactory, time), cancellationToken));

    public static SpoolImporter Start(SpoolImporter importer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(importer);
        cancellationToken.ThrowIfCancellationRequested();
        if (importer._spoolDir.Length == 0)
        {
            return importer;
        }
        try
        {
            // Like Postfix's maildrop: every local user may submit, none may read another's.
            SpoolDirectory.Prepare(importer._spoolDir);
        }
        catch (IOException e)
        {
            // The import still runs (a spool prepared by hand works); SMTP is unaffected.
            SendmailLog.SpoolNotPrepared(importer._logger, importer._spoolDir, e.Message);
        }
        // PollAsync logs every fault itself.
        _ = Task.Run(importer.PollAsync, CancellationToken.None);
        var poll = importer._settings.Poll;
        if (poll > TimeSpan.Zero)
        {
            importer._timer = importer._time.CreateTimer(static state => _ = ((SpoolImporter)state!).PollAsync(), importer, poll, poll);
        }
        return importer;
    }

    // Returns how many messages were imported. Throws IOException when the store fails (the
    // entry stays for the next pass); a bad entry never throws, it is moved aside.
    public async Task<int> ImportAsync(CancellationToken cancellationToken)
    {
        var newDir = Path.Combine(_spoolDir, "new");
        if (!Directory.Exists(newDir))
        {
            return 0;
        }
        var imported = 0;
        // Every kind of entry, directories and links included: they are refused and moved too.
        foreach (var path in Directory.GetFileSystemEntries(newDir).Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!_intake.HasCapacity)
            {
                // As SMTP answers 451: the rest waits in the spool for the next poll.
                SendmailLog.SpoolQueueFull(_logger, _spoolDir);
                break;
            }
            if (await ImportEntryAsync(path, Path.GetFileName(path), cancellationToken).ConfigureAwait(false))
            {
                imported++;
            }
            // Each entry is progress: a spool of thousands taken in one pass is busy, not stuck.
            _busy.Progressed();
        }
        return imported;
    }

    // Idempotent: a stop and the final dispose both call it.
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _timer?.Dispose();
        _stop.Cancel();
        // An import in flight finishes its current file (or is cancelled) before we return;
        // one still stuck after that keeps its token source (it is then never disposed).
        if (_running.Wait(TimeSpan.FromSeconds(5)))
        {
            _stop.Dispose();
        }
    }

    // True when imported; false when refused (moved aside) or gone.
    private async Task<bool> ImportEntryAsync(string path, string name, CancellationToken cancellationToken)
    {
        string? refusal;
        using (var entry = SpoolEntry.Open(path, _limits, out refusal))
        {
            if (entry is not null)
            {
                refusal = await ImportOpenAsync(entry, path, Printable(name), cancellationToken).ConfigureAwait(false);
                if (refusal is null)
                {
                    return true;
                }
            }
        }
        if (refusal is null)
        {
            return false;
        }
        try
        {
            if (_quarantine.MoveAside(path, name, refusal, out var reasonError))
            {
                SendmailLog.SpoolEntryRefused(_logger, Printable(name), _spoolDir,
                    reasonError is null ? refusal : $"{refusal} (the .reason file could not be written: {reasonError})", _quarantine.Dir);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // bad/ unusable (a link planted in its place, a full disk): the entry stays in new/,
            // said again at every poll, and the entries after it are still imported.
            SendmailLog.SpoolEntryNotMoved(_logger, Printable(name), _spoolDir, refusal, e.Message);
        }
        return false;
    }

    // Null when imported, else why the entry is refused.
    private async Task<string?> ImportOpenAsync(SpoolEntry entry, string path, string shownName, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(_bufferSize);
        try
        {
            // The envelope, a line at a time; the reader keeps to one line's window.
            var reader = new SpoolEnvelopeReader(_limits);
            long offset = 0;
            var filled = 0;
            int consumed;
            while (true)
            {
                if (!entry.TryRead(buffer.AsSpan(filled), offset, out var n, out var readError))
                {
                    return readError;
                }
                offset += n;
                filled += n;
                // TryRead stops short only at the end of the file.
                var status = reader.Read(buffer.AsSpan(0, filled), final: filled < buffer.Length, out consumed);
                if (status == SpoolEnvelopeStatus.Bad)
                {
                    return reader.Reason;
                }
                if (status == SpoolEnvelopeStatus.Complete)
                {
                    break;
                }
                // NeedMore comes only with a full buffer and some lines consumed (the buffer
                // holds more than one line's window): keep the partial line, read on.
                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
            }
            var messageSize = entry.Size - reader.Length;
            if (messageSize > _limits.MaxMessageSize)
            {
                return SpoolEntry.TooLarge(messageSize, _limits);
            }

            // What SMTP would answer 553 to at MAIL or RCPT: refused whole, as SMTP refuses it.
            if (_intake.Check.SenderProblem(reader.From ?? "") is { } senderProblem)
            {
                return senderProblem;
            }
            foreach (var recipient in reader.Recipients)
            {
                if (_intake.Check.RecipientProblem(recipient) is { } recipientProblem)
                {
                    return recipientProblem;
                }
            }
            var envelope = _intake.Envelope(reader.From ?? "", reader.Recipients, "spool", LocalHost.Value);
            IntakeResult result;
            var draft = _intake.CreateDraft();
            await using (draft.ConfigureAwait(false))
            {
                var chunk = buffer.AsMemory(consumed, filled - consumed);
                long written = 0;
                while (!chunk.IsEmpty)
                {
                    written += chunk.Length;
                    if (written > _limits.MaxMessageSize)
                    {
                        return SpoolEntry.TooLarge(written, _limits); // it grew after the fstat
                    }
                    draft.Write(chunk.Span);
                    if (filled < buffer.Length)
                    {
                        break; // that was the end of the file
                    }
                    cancellationToken.ThrowIfCancellationRequested();
                    if (!entry.TryRead(buffer, offset, out filled, out var readError))
                    {
                        return readError;
                    }
                    offset += filled;
                    chunk = buffer.AsMemory(0, filled);
                }
                result = await _intake.CommitAsync(draft, envelope, cancellationToken).ConfigureAwait(false);
            }
            var message = result.Message;
            // Committed is durable: the store keeps it pending for the batcher (a stop's
            // cancellation included), and keeping the spool file would import it again.
            if (result.SinkError is { } sinkError and not OperationCanceledException)
            {
                SendmailLog.SinkFailed(_logger, sinkError, message.Id);
            }
            File.Delete(path);
            SendmailLog.SpoolImported(_logger, shownName, _spoolDir, message.Id, envelope.Recipients.Count);
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Entry names are chosen by whoever wrote the spool: no control characters into the log.
    private static string Printable(string name) =>
        string.Create(name.Length, name, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++)
            {
                span[i] = char.IsControl(s[i]) ? '?' : s[i];
            }
        });

    private async Task PollAsync()
    {
        if (_stop.IsCancellationRequested || !await _running.WaitAsync(0).ConfigureAwait(false))
        {
            return;
        }
        _busy.Working();
        try
        {
            await ImportCoreAsync(_stop.Token).ConfigureAwait(false);
        }
        finally
        {
            _busy.Idle();
            _running.Release();
        }
    }

    private async Task ImportCoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ImportAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Runs from a timer: every fault is logged here, and the next poll tries again.
            SendmailLog.SpoolImportFailed(_logger, e, _spoolDir);
        }
    }
}
