using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Failmail.Maildir;

// One message streaming into tmp/<name> through a buffered FileStream; memory stays flat
// whatever the message size. CommitAsync writes the envelope to tmp/ (with
// CommitSync.PerFile it also fsyncs both files on the caller's thread), then hands the
// publication to the GroupCommitter and waits for it.
internal sealed class MaildirDraft : IMessageDraft
{
    private const int BufferSize = 64 * 1024;

    private readonly MaildirLayout _layout;
    private readonly GroupCommitter _committer;
    private readonly StoreCounters _counters;
    private readonly ILogger _logger;
    private readonly string _name;
    private FileStream? _file;
    private bool _committed;

    public MaildirDraft(MaildirLayout layout, GroupCommitter committer, StoreCounters counters, ILogger logger, string name)
    {
        _layout = layout;
        _committer = committer;
        _counters = counters;
        _logger = logger;
        _name = name;
        var path = layout.TmpData(name);
        try
        {
            _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, BufferSize);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure($"Cannot create {path} in the message store", e);
        }
    }

    public long Length { get; private set; }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        var file = _file ?? throw new InvalidOperationException("the draft is already committed or discarded");
        try
        {
            file.Write(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure($"Cannot write {_layout.TmpData(_name)} in the message store", e);
        }
        Length += bytes.Length;
    }

    public async ValueTask<ReceivedMessage> CommitAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        var file = _file ?? throw new InvalidOperationException("the draft is already committed or discarded");
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            // With CommitSync.FileSystem the committer's syncfs covers this file.
            var perFile = _committer.Sync == CommitSync.PerFile;
            file.Flush(flushToDisk: perFile);
            if (perFile)
            {
                _counters.FileSynced();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure($"Cannot sync {_layout.TmpData(_name)} in the message store", e);
        }
        finally
        {
            _file = null;
            Close(file);
        }
        WriteMeta(envelope);

        var id = _name + MaildirName.InfoSuffix;
        // Past this point the commit completes even if the session is cancelled: it takes
        // one group (milliseconds), and a commit that is published must reach the caller.
        var message = await _committer.Enqueue(new PendingCommit(_name, new ReceivedMessage(id, envelope, Length)))
            .ConfigureAwait(false);
        _committed = true;
        return message;
    }

    public ValueTask DisposeAsync()
    {
        if (_file is { } file)
        {
            _file = null;
            Close(file);
        }
        if (!_committed)
        {
            GroupCommitter.TryDelete(_layout.TmpData(_name));
            GroupCommitter.TryDelete(_layout.TmpMeta(_name));
        }
        return ValueTask.CompletedTask;
    }

    // The envelope, synced in tmp/ before it may be renamed into .meta/. Its mtime is the
    // receive time, as failmail's was, so failmail can still read a store we wrote.
    private void WriteMeta(Envelope envelope)
    {
        var path = _layout.TmpMeta(_name);
        var json = JsonSerializer.SerializeToUtf8Bytes(MetaRecord.FromEnvelope(envelope, Length), MetaJsonContext.Default.MetaRecord);
        try
        {
            using var meta = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
            meta.Write(json);
            File.SetLastWriteTimeUtc(meta.SafeFileHandle, envelope.Received.UtcDateTime);
            if (_committer.Sync == CommitSync.PerFile)
            {
                meta.Flush(flushToDisk: true);
                _counters.FileSynced();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure($"Cannot write {path} in the message store", e);
        }
    }

    private IOException Failure(string what, Exception e) => MaildirEvents.WriteFailure(_logger, what, e);

    // Dispose flushes what is buffered; on a full disk that throws, and the draft is being
    // discarded anyway.
    private static void Close(FileStream file)
    {
        try
        {
            file.Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
