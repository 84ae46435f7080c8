using System.Text;
using Failmail.Hosting;

namespace Failmail.Api;

// GET /api/v1/events: server-sent events (text/event-stream). Once a second each stream looks
// at a fingerprint of what the console shows (counters, history, queue, silences) and, when
// it changed, sends "event: change" with the status as data; the page then fetches what it
// shows. A comment every 15 s keeps proxies from closing an idle stream. At most MaxStreams
// at once: each holds one of the HTTP server's connections.
internal sealed class EventStream(TimeProvider time, Func<byte[]> status, Func<string> fingerprint)
{
    public const int MaxStreams = 8;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private const int KeepAliveIntervals = 15;

    private int _open;

    public HttpResponse Open()
    {
        if (Interlocked.Increment(ref _open) > MaxStreams)
        {
            Interlocked.Decrement(ref _open);
            return ApiResponses.Error(503, $"too many event streams (at most {MaxStreams})");
        }
        return new HttpResponse(200, "text/event-stream", []) { Stream = RunAsync };
    }

    private async Task RunAsync(Stream stream, CancellationToken cancellationToken)
    {
        try
        {
            string? last = null;
            var quiet = 0;
            await stream.WriteAsync("retry: 2000\n\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            using var timer = new PeriodicTimer(Interval, time);
            do
            {
                var now = fingerprint();
                if (now != last)
                {
                    last = now;
                    quiet = 0;
                    var data = status();
                    var message = new byte[data.Length + 22];
                    var written = Encoding.ASCII.GetBytes("event: change\ndata: ", message);
                    data.CopyTo(message, written);
                    message[written + data.Length] = (byte)'\n';
                    message[written + data.Length + 1] = (byte)'\n';
                    await stream.WriteAsync(message.AsMemory(0, written + data.Length + 2), cancellationToken).ConfigureAwait(false);
                    await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
                else if (++quiet >= KeepAliveIntervals)
                {
                    quiet = 0;
                    await stream.WriteAsync(": keep-alive\n\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                    await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The client went away, or the server stops.
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }
}
