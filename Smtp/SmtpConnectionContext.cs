using System.Net.Security;
using Failmail.Intake;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Failmail.Smtp;

// What the connections of one listener share: settings, the intake (store, sink, rewriting),
// clock, logger, the TLS certificate, the listener-wide shutdown/abort signals and the
// message counters.
internal sealed class SmtpConnectionContext
{
    private long _accepted;
    private long _rejected;

    public required SmtpSessionSettings Settings { get; init; }
    // The one door into the store: checks, rewriting, commit and hand-off (Intake/MessageIntake).
    public required MessageIntake Intake { get; init; }
    public ILogger Logger { get; init; } = NullLogger.Instance;
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
    public bool DebugReceiver { get; init; }
    public SslStreamCertificateContext? Certificate { get; init; }
    // --allow-from: clients outside it get 554 at connect, or must AUTH with --credentials.
    public ClientNetworks AllowFrom { get; init; } = ClientNetworks.Any;
    // Wrong AUTH per client IP across connections; null: per connection only.
    public AuthFailureTracker? AuthFailures { get; init; }
    // Stop: sessions in the command phase get 421 at their next command; DATA may finish.
    public CancellationToken Shutdown { get; init; }
    // Abort: the drain time is over, drop everything.
    public CancellationToken Abort { get; init; }

    public long MessagesAccepted => Interlocked.Read(ref _accepted);
    public long MessagesRejected => Interlocked.Read(ref _rejected);

    public void CountAccepted() => Interlocked.Increment(ref _accepted);
    public void CountRejected() => Interlocked.Increment(ref _rejected);
}
