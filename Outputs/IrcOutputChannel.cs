using Failmail.Outputs.Irc;
using Microsoft.Extensions.Logging;

namespace Failmail.Outputs;

// irc:// and ircs:// outputs: a digest as a few short lines (IrcRenderer) through the one kept
// IrcConnection of this target, which registers, joins, applies flood control and confirms
// the lines with a PING. Every failure it reports (IOException, IrcException, a timeout, a
// server certificate not trusted) is retried by the worker with the relay's backoff; a retried post may repeat lines, never
// lose them.
internal sealed class IrcOutputChannel : IOutputChannel
{
    private readonly IrcConnection _connection;

    public IrcOutputChannel(OutputTarget target, TimeSpan timeout, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(target);
        IrcTarget? irc = null;
        var error = "no IRC URL";
        if (target.Endpoint is null || !IrcTarget.TryParse(target.Endpoint.OriginalString, out irc, out error))
        {
            throw new ArgumentException($"--transport-map: {target.Display}: {error}");
        }
        _connection = new IrcConnection(irc!, timeout, time, logger);
    }

    public async Task<OutputResult> DeliverAsync(OutputEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            await _connection.SendAsync(IrcRenderer.Render(entry), cancellationToken).ConfigureAwait(false);
            return OutputResult.Sent();
        }
        catch (Exception e) when (e is IOException or IrcException or TimeoutException or System.Net.Sockets.SocketException
            or System.Security.Authentication.AuthenticationException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return OutputResult.Retry($"{e.GetType().Name}: {TextCut.Chars(TextCut.OneLine(e.Message), 300)}");
        }
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
