using System.Text;
using Failmail.Maildir;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Failmail.Batching;

// Reads stored messages back for the batcher. Never throws for bad content: a message MimeKit
// cannot parse becomes a minimal text message holding the raw bytes, so its alert still gets
// into a digest. Returns null only when the store no longer has the message.
internal static class StoredMessages
{
    public static MimeMessage? Load(IMessageStore store, string id, ILogger logger) =>
        Read(store, id, logger) is { } bytes ? Parse(bytes, id, logger) : null;

    // The stored bytes, or null when the store no longer has the message. One copy: stored
    // messages are immutable, so a seekable stream's length is the message's.
    public static byte[]? Read(IMessageStore store, string id, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(store);
        try
        {
            using var stream = store.OpenRead(id);
            // The stores hand out their in-memory copy: take it as it is (read-only here).
            if (stream is MemoryStream memory && memory.TryGetBuffer(out var whole)
                && whole.Array is { } array && whole.Offset == 0 && whole.Count == array.Length && memory.Position == 0)
            {
                return array;
            }
            if (stream.CanSeek)
            {
                var bytes = new byte[stream.Length - stream.Position];
                stream.ReadExactly(bytes);
                return bytes;
            }
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            BatchLog.MessageUnreadable(logger, e, id);
            return null;
        }
    }

    public static MimeMessage Parse(byte[] bytes, string id, ILogger logger) => Parse(bytes, bytes?.Length ?? 0, id, logger);

    // The message is the first `length` bytes of `bytes` (a reused read buffer); MimeKit copies
    // what it keeps.
    public static MimeMessage Parse(byte[] bytes, int length, string id, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        try
        {
            using var stream = new MemoryStream(bytes, 0, length, writable: false);
            return MimeMessage.Load(stream);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException or InvalidOperationException)
        {
            BatchLog.MessageUnparsable(logger, e, id);
            return Minimal(bytes.AsSpan(0, length));
        }
    }

    private static MimeMessage Minimal(ReadOnlySpan<byte> bytes)
    {
        var message = new MimeMessage { Subject = "[unparsable message]" };
        var text = Encoding.UTF8.GetString(bytes);
        if (text.Contains('\uFFFD', StringComparison.Ordinal))
        {
            text = Encoding.Latin1.GetString(bytes);
        }
        message.Body = new TextPart(MimeKit.Text.TextFormat.Plain) { Text = text };
        return message;
    }
}
