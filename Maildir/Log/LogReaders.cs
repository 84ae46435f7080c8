using Microsoft.Win32.SafeHandles;

namespace Failmail.Maildir.Log;

// Read handles for log segments, kept open between reads: the batcher reads every message
// back once, and an open, flock, fstat and close around each read cost more than the read.
// A handle stays valid when its segment is renamed to .seg; it is dropped when the segment
// is deleted, so a deleted segment's space is not held. Thread-safe.
internal sealed class LogReaders(LogLayout layout) : IDisposable
{
    // Segments being read at once are few (the active one and a sealed one or two).
    private const int MaxOpen = 16;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, SafeFileHandle> _handles = new(StringComparer.Ordinal);

    // The body of the record at offset; null when there is no valid record there.
    // FileNotFoundException when the segment is gone.
    public byte[]? ReadBody(string stem, long offset) =>
        ReadBody(stem, offset, length => new byte[length]) is { } body ? body.Array : null;

    // The same, into an array from buffer(length) (see LogSegmentScanner.ReadBody).
    public ArraySegment<byte>? ReadBody(string stem, long offset, Func<int, byte[]> buffer)
    {
        var handle = Get(stem);
        try
        {
            return LogSegmentScanner.ReadBody(handle, offset, buffer);
        }
        catch (ObjectDisposedException)
        {
            // Dropped by another thread between Get and the read: once more, freshly opened.
            return LogSegmentScanner.ReadBody(Get(stem), offset, buffer);
        }
    }

    public void Drop(string stem)
    {
        lock (_gate)
        {
            if (_handles.Remove(stem, out var handle))
            {
                handle.Dispose();
            }
        }
    }

    // Drops handles of segments that no longer exist (deleted by another process).
    public void DropMissing()
    {
        lock (_gate)
        {
            foreach (var stem in _handles.Keys.Where(s => !File.Exists(layout.Open(s)) && !File.Exists(layout.Sealed(s))).ToList())
            {
                _handles.Remove(stem, out var handle);
                handle?.Dispose();
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var handle in _handles.Values)
            {
                handle.Dispose();
            }
            _handles.Clear();
        }
    }

    private SafeFileHandle Get(string stem)
    {
        lock (_gate)
        {
            if (_handles.TryGetValue(stem, out var cached))
            {
                return cached;
            }
            var handle = Open(stem);
            if (_handles.Count >= MaxOpen)
            {
                foreach (var old in _handles.Values)
                {
                    old.Dispose();
                }
                _handles.Clear();
            }
            _handles[stem] = handle;
            return handle;
        }
    }

    // .open first: a segment is only ever renamed from .open to .seg, never back.
    private SafeFileHandle Open(string stem)
    {
        try
        {
            return File.OpenHandle(layout.Open(stem), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            return File.OpenHandle(layout.Sealed(stem), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
    }
}
