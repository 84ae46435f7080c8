using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using Microsoft.Extensions.Logging;

namespace Failmail.Smtp;

// The pipes over one client's stream. STARTTLS completes them (leaveOpen keeps the stream,
// as SmtpServer's UpgradeAsync forgot to) and makes new ones over an SslStream; whatever the
// old reader had buffered is dropped with it (RFC 3207 §4.2). Also the one place that
// writes replies, so --debug-receiver sees every line written.
internal sealed class SmtpTransport : IAsyncDisposable
{
    private readonly Stream _transport;
    private readonly long _id;
    private readonly ILogger _logger;
    private readonly bool _debug;
    private Stream _stream;

    public SmtpTransport(Stream transport, long id, ILogger logger, bool debug)
    {
        _transport = transport;
        _stream = transport;
        _id = id;
        _logger = logger;
        _debug = debug;
        (Reader, Writer) = CreatePipes(transport);
    }

    public PipeReader Reader { get; private set; }
    public PipeWriter Writer { get; private set; }

    public void Write(SmtpReply reply)
    {
        if (_debug)
        {
            foreach (var line in reply.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
            {
                SmtpLog.LineWritten(_logger, _id, line);
            }
        }
        reply.WriteTo(Writer);
    }

    // Handed through, not awaited here: one state machine less per reply.
    public ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken) => Writer.FlushAsync(cancellationToken);

    // Only what the client sent; callers pass placeholders for AUTH data and message content.
    public void LogRead(string text)
    {
        if (_debug)
        {
            SmtpLog.LineRead(_logger, _id, text);
        }
    }

    public void CancelPendingRead()
    {
        try
        {
            Reader.CancelPendingRead();
        }
        catch (InvalidOperationException)
        {
            // The reader was completed: the connection is closing anyway.
        }
    }

    // Throws IOException/AuthenticationException/OperationCanceledException on a failed handshake.
    public async Task UpgradeToTlsAsync(SslStreamCertificateContext certificate, CancellationToken cancellationToken)
    {
        await Reader.CompleteAsync().ConfigureAwait(false);
        await Writer.CompleteAsync().ConfigureAwait(false);
        var ssl = new SslStream(_transport, leaveInnerStreamOpen: false);
        _stream = ssl;
        (Reader, Writer) = CreatePipes(ssl);
        var options = new SslServerAuthenticationOptions { ServerCertificateContext = certificate };
        await ssl.AuthenticateAsServerAsync(options, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await Reader.CompleteAsync().ConfigureAwait(false);
        await Writer.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
    }

    private static (PipeReader, PipeWriter) CreatePipes(Stream stream) => (
        PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true)),
        PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true)));
}
