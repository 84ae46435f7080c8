namespace Failmail.Maildir;

// One message being received. Disposing a draft that was not committed discards it.
internal interface IMessageDraft : IAsyncDisposable
{
    long Length { get; }

    // Appends message bytes, already dot-unstuffed and with CRLF line ends.
    void Write(ReadOnlySpan<byte> bytes);

    // Makes the message durable with its envelope. Only after this returns may SMTP say 250.
    ValueTask<ReceivedMessage> CommitAsync(Envelope envelope, CancellationToken cancellationToken);
}
