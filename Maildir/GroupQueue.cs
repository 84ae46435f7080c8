using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;

namespace Failmail.Maildir;

// The queue between the sessions and a committer thread: anyone adds, one dedicated thread
// blocks until something waits and then takes everything that waits as one group (one sync
// for all of it). Used by the LogWriter and by both GroupCommitter stages.
internal sealed class GroupQueue<T>(bool singleWriter = false)
{
    private readonly Channel<T> _channel =
        Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = singleWriter });

    // False once the queue is completed.
    public bool TryAdd(T item) => _channel.Writer.TryWrite(item);

    // Takes no more; what is queued can still be taken. With an error, later adds fail too.
    public void Complete(Exception? error = null) => _channel.Writer.TryComplete(error);

    // Blocks the calling (dedicated) thread until something is queued, then takes all of it;
    // false once the queue is completed and empty. Each group is a new list, so a caller may
    // hand it on (the LogWriter releases it on the pool) while it takes the next.
    public bool TryTakeGroup([NotNullWhen(true)] out List<T>? group)
    {
        var ready = _channel.Reader.WaitToReadAsync();
        if (!(ready.IsCompleted ? ready.Result : ready.AsTask().GetAwaiter().GetResult()))
        {
            group = null;
            return false;
        }
        group = TakeRest();
        return true;
    }

    // Whatever is queued right now, without waiting (after a crash: to fail it).
    public List<T> TakeRest()
    {
        var rest = new List<T>();
        while (_channel.Reader.TryRead(out var item))
        {
            rest.Add(item);
        }
        return rest;
    }
}
