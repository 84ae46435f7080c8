using Failmail.Batching;
using Failmail.Maildir;
using Failmail.Rewriting;
using Failmail.Smtp;
using Microsoft.Extensions.Logging;

namespace Failmail.Sendmail;

// The daemon's side of the spool that `failmail sendmail` writes while the daemon is down
// (--spool-dir, a maildir). At start and then every --poll, each file in new/ is imported
// exactly as the SMTP receiver would take the message (same rewriting, same store): commit
// into the incoming store, hand to the sink, and only then delete the spool file. A crash
// between the commit and the delete imports the message twice at worst; it is never lost.
// A sink that refuses is logged like SmtpDelivery does: the committed message stays pending
// in the store for the batcher.
internal sealed class SpoolImporter : IDisposable
{
    private readonly string _spoolDir;
    private readonly IMessageStore _store;
    private readonly IMessageSink _sink;
    private readonly AddressRewriter _addresses;
    private readonly RecipientRewriter _recipients;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _running = new(1, 1);
    private ITimer? _timer;

    public SpoolImporter(FailmailOptions options, IMessageStore store, IMessageSink sink, AddressRewriter addresses,
        ILoggerFactory loggerFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _spoolDir = options.SpoolDir;
        _store = store;
        _sink = sink;
        _addresses = addresses;
        _recipients = RecipientRewriter.From(options);
        _logger = loggerFactory.CreateLogger("Failmail.Sendmail");
        _time = time;
    }

    // Imports what is spooled now, then keeps importing every poll until disposed.
    public static async Task<SpoolImporter> StartAsync(FailmailOptions options, IMessageStore store, IMessageSink sink,
        AddressRewriter addresses, ILoggerFactory loggerFactory, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var importer = new SpoolImporter(options, store, sink, addresses, loggerFactory, time);
        if (importer._spoolDir.Length == 0)
        {
            return importer;
        }
        await importer.ImportOnceAsync(cancellationToken).ConfigureAwait(false);
        if (options.Poll > TimeSpan.Zero)
        {
            importer._timer = time.CreateTimer(static state => _ = ((SpoolImporter)state!).PollAsync(), importer, options.Poll, options.Poll);
        }
        return importer;
    }

    // Returns how many messages were imported. Throws IOException when the store fails.
    public async Task<int> ImportAsync(CancellationToken cancellationToken)
    {
        var newDir = Path.Combine(_spoolDir, "new");
        if (!Directory.Exists(newDir))
        {
            return 0;
        }
        var imported = 0;
        foreach (var path in Directory.GetFiles(newDir).Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            byte[] file;
            try
            {
                file = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (FileNotFoundException)
            {
                continue; // another importer (a reload child) took it
            }
            var name = Path.GetFileName(path);
            if (!SpoolFile.TryDecode(file, out var spooled) || spooled is null)
            {
                SendmailLog.SpoolFileBad(_logger, name, _spoolDir);
                Directory.CreateDirectory(Path.Combine(_spoolDir, "cur"));
                File.Move(path, Path.Combine(_spoolDir, "cur", name), overwrite: true);
                continue;
            }
            var envelope = new Envelope(
                _addresses.RewriteSender(spooled.From),
                _recipients.RewriteAll(_addresses.RewriteRecipients(spooled.Recipients)),
                _time.GetUtcNow(),
                "spool");
            ReceivedMessage message;
            var draft = _addresses.Wrap(_store.CreateDraft());
            await using (draft.ConfigureAwait(false))
            {
                draft.Write(spooled.Bytes);
                message = await draft.CommitAsync(envelope, cancellationToken).ConfigureAwait(false);
            }
            try
            {
                await _sink.AcceptAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
            {
                // As in SmtpDelivery: committed is durable, the store keeps it pending for the
                // batcher. Keeping the spool file would import it again at every poll.
                SendmailLog.SinkFailed(_logger, e, message.Id);
            }
            File.Delete(path);
            SendmailLog.SpoolImported(_logger, name, _spoolDir, message.Id, envelope.Recipients.Count);
            imported++;
        }
        return imported;
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _stop.Cancel();
        // An import in flight finishes its current file (or is cancelled) before we return;
        // one still stuck after that keeps its token source (it is then never disposed).
        if (_running.Wait(TimeSpan.FromSeconds(5)))
        {
            _stop.Dispose();
        }
    }

    private async Task PollAsync()
    {
        if (_stop.IsCancellationRequested || !await _running.WaitAsync(0).ConfigureAwait(false))
        {
            return;
        }
        try
        {
            await ImportCoreAsync(_stop.Token).ConfigureAwait(false);
        }
        finally
        {
            _running.Release();
        }
    }

    private async Task ImportOnceAsync(CancellationToken cancellationToken)
    {
        await _running.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ImportCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
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
