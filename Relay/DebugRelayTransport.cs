using System.Text;
using MimeKit;

namespace Failmail.Relay;

// --relay-addr debug: every message goes to stdout instead of a relay, and never fails.
// failmail printed bare messages back to back; we put one separator line carrying the
// envelope before each message so a reader can tell them apart:
//   "=== failmail relay: MAIL FROM:<from> RCPT TO:<a> <b>" CRLF, the message bytes, CRLF.
// It writes to a Stream, not a TextWriter, so 8bit content comes out byte for byte.
internal sealed class DebugRelayTransport : IRelayTransport
{
    public const string SeparatorPrefix = "=== failmail relay: ";

    private static readonly FormatOptions Format = CreateFormat();

    private readonly Stream _output;

    public DebugRelayTransport(Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
    }

    public async ValueTask SendAsync(MimeMessage message, string from, IReadOnlyList<string> recipients, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(recipients);
        var separator = new StringBuilder(SeparatorPrefix).Append("MAIL FROM:<").Append(from).Append("> RCPT TO:");
        foreach (var recipient in recipients)
        {
            separator.Append(" <").Append(recipient).Append('>');
        }
        separator.Append("\r\n");
        await _output.WriteAsync(Encoding.UTF8.GetBytes(separator.ToString()), cancellationToken).ConfigureAwait(false);
        await message.WriteToAsync(Format, _output, cancellationToken).ConfigureAwait(false);
        await _output.WriteAsync("\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisconnectAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static FormatOptions CreateFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }
}
