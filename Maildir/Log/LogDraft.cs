using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Failmail.Maildir.Log;

// One message being received into the log store. The body stays in a pooled buffer (alerts
// are a few KB, and an SMTP session then never touches the disk until its commit); past
// SpillThreshold it moves to a file under log/spill/ so memory stays flat for big messages.
// CommitAsync hands the record to the LogWriter and waits for its sync.
internal sealed class LogDraft : IMessageDraft
{
    internal const int SpillThreshold = 256 * 1024;
    private const int InitialBuffer = 4 * 1024;

    private readonly LogWriter _writer;
    private readonly LogLayout _layout;
    private readonly string _name;
    private readonly ILogger _logger;
    private byte[]? _buffer;
    private int _buffered;
    private FileStream? _spill;
    private uint _crc;
    private bool _closed;

    public LogDraft(LogWriter writer, LogLayout layout, string name, ILogger logger)
    {
        _writer = writer;
        _layout = layout;
        _name = name;
        _logger = logger;
        _buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
    }

    public long Length { get; private set; }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        _crc = LogRecord.Crc(_crc, bytes);
        Length += bytes.Length;
        if (_spill is null && _buffered + bytes.Length > SpillThreshold)
        {
            StartSpill();
        }
        if (_spill is { } spill)
        {
            try
            {
                spill.Write(bytes);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Failure($"Cannot write {_layout.SpillFile(_name)} in the message store", e);
            }
            return;
        }
        EnsureCapacity(_buffered + bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_buffered));
        _buffered += bytes.Length;
    }

    public async ValueTask<ReceivedMessage> CommitAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (_spill is { } spill)
        {
            try
            {
                // The writer reads the spill through its handle; no fsync: the segment's is what counts.
                spill.Flush();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Failure($"Cannot write {_layout.SpillFile(_name)} in the message store", e);
            }
        }
        var meta = JsonSerializer.SerializeToUtf8Bytes(MetaRecord.FromEnvelope(envelope, Length), MetaJsonContext.Default.MetaRecord);
        var body = _spill is null ? _buffer.AsMemory(0, _buffered) : ReadOnlyMemory<byte>.Empty;
        var commit = new LogCommit(envelope, meta, body, _spill?.SafeFileHandle, Length, _crc);
        // Once queued the commit completes (one group, milliseconds) even if the session is
        // cancelled: a record that is synced must reach the caller.
        return await _writer.Enqueue(commit).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        if (_closed)
        {
            return ValueTask.CompletedTask;
        }
        _closed = true;
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
        if (_spill is { } spill)
        {
            _spill = null;
            try
            {
                spill.Dispose();
            }
            catch (IOException)
            {
                // DeleteOnClose: the file is unlinked even when the final flush fails.
            }
        }
        return ValueTask.CompletedTask;
    }

    private void EnsureCapacity(int needed)
    {
        if (_buffer is { } buffer && needed <= buffer.Length)
        {
            return;
        }
        var grown = ArrayPool<byte>.Shared.Rent(Math.Max(needed, (_buffer?.Length ?? InitialBuffer) * 2));
        if (_buffer is { } old)
        {
            old.AsSpan(0, _buffered).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(old);
        }
        _buffer = grown;
    }

    private void StartSpill()
    {
        var path = _layout.SpillFile(_name);
        try
        {
            // DeleteOnClose: a spill file outlives its draft only after a crash, and recovery
            // empties log/spill/.
            _spill = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 64 * 1024, FileOptions.DeleteOnClose);
            if (_buffer is { } buffer)
            {
                _spill.Write(buffer, 0, _buffered);
                _buffer = null;
                _buffered = 0;
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure($"Cannot create {path} in the message store", e);
        }
    }

    private IOException Failure(string what, Exception e) => MaildirEvents.WriteFailure(_logger, what, e);
}
