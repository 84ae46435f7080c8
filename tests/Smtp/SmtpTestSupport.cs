using System.Buffers;
using System.Collections.Concurrent;
using Failmail.Batching;
using Failmail.Intake;
using Failmail.Maildir;

namespace Failmail.Tests.Smtp;

// Builds ReadOnlySequence<byte> values split into segments, to test segment boundaries.
internal static class Segments
{
    public static ReadOnlySequence<byte> Split(ReadOnlySpan<byte> data, int chunk)
    {
        if (data.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }
        Segment? first = null;
        Segment? last = null;
        for (var i = 0; i < data.Length; i += chunk)
        {
            var piece = data.Slice(i, Math.Min(chunk, data.Length - i)).ToArray();
            var segment = new Segment(piece);
            if (last is null)
            {
                first = segment;
            }
            else
            {
                last.Append(segment);
            }
            last = segment;
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    // Whole, in two halves at every split point is too many; whole, 3-byte and 1-byte chunks.
    public static IEnumerable<ReadOnlySequence<byte>> Variants(byte[] data)
    {
        yield return new ReadOnlySequence<byte>(data);
        yield return Split(data, 3);
        yield return Split(data, 1);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data) => Memory = data;

        public void Append(Segment next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
        }
    }
}

internal sealed class RecordingSink : IMessageSink
{
    public ConcurrentQueue<ReceivedMessage> Messages { get; } = new();
    public bool Full { get; set; }

    public bool HasCapacity => !Full;

    public ValueTask AcceptAsync(ReceivedMessage message, CancellationToken cancellationToken)
    {
        Messages.Enqueue(message);
        return ValueTask.CompletedTask;
    }
}

// A store that fails where told: at CreateDraft, Write or Commit, with the given HResult.
internal sealed class FailingStore(string failAt, int hresult = 5) : IMessageStore
{
    public string FailAt { get; } = failAt;

    public IMessageDraft CreateDraft() => FailAt == "create" ? throw Error() : new Draft(this);

    public IReadOnlyList<ReceivedMessage> LoadPending() => [];

    public Stream OpenRead(string id) => throw new FileNotFoundException();

    public void Remove(IEnumerable<string> ids)
    {
    }

    private IOException Error() => new("simulated store failure", hresult);

    private sealed class Draft(FailingStore store) : IMessageDraft
    {
        public long Length { get; private set; }

        public void Write(ReadOnlySpan<byte> bytes)
        {
            if (store.FailAt == "write")
            {
                throw store.Error();
            }
            Length += bytes.Length;
        }

        public ValueTask<ReceivedMessage> CommitAsync(Envelope envelope, CancellationToken cancellationToken) =>
            throw store.Error();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

// A Stream over two pipes: what one side writes, the other reads. No sockets.
internal sealed class DuplexStream(Stream input, Stream output) : Stream
{
    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => input.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        input.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        input.ReadAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => output.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        output.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        output.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Flush() => output.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => output.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            input.Dispose();
            output.Dispose();
        }
        base.Dispose(disposing);
    }
}
