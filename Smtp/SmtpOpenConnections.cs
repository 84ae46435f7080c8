using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Failmail.Smtp;

// The open connections of one listener: capped at --max-connections (a client beyond the
// cap gets 421 and is closed: STYLE pitfall 1, cap concurrent connections), and each one's
// task kept so that a stop can drain them.
internal sealed class SmtpOpenConnections
{
    private readonly ConcurrentDictionary<long, Task> _tasks = new();
    private readonly ILogger _logger;
    private readonly int _max;
    private long _nextId;
    private int _open;

    public SmtpOpenConnections(ILogger logger, int maxConnections)
    {
        _logger = logger;
        _max = maxConnections;
    }

    public int Count => Volatile.Read(ref _open);

    // Takes a slot for the client, or answers 421 and closes it and returns false.
    public bool TryAdmit(Socket client)
    {
        if (Interlocked.Increment(ref _open) > _max)
        {
            Interlocked.Decrement(ref _open);
            Refuse(client);
            return false;
        }
        return true;
    }

    // A placeholder is registered before the session runs, so its own removal cannot
    // come first; a session that already ended has removed it and is not added back.
    // Returns the new connection's id.
    public long Reserve()
    {
        var id = Interlocked.Increment(ref _nextId);
        _tasks[id] = Task.CompletedTask;
        return id;
    }

    public void Started(long id, Task connection) => _tasks.TryUpdate(id, connection, Task.CompletedTask);

    // The connection's task is ending: its slot is free again.
    public void Release(long id)
    {
        Interlocked.Decrement(ref _open);
        _tasks.TryRemove(id, out _);
    }

    public Task WhenAll() => Task.WhenAll(_tasks.Values);

    // §3.8: a server that cannot serve now answers 421 and closes.
    private void Refuse(Socket client)
    {
        try
        {
            SmtpLog.TooManyConnections(_logger, client.RemoteEndPoint?.ToString() ?? "?", _max);
            client.Blocking = false;
            client.Send(Encoding.ASCII.GetBytes(SmtpReply.TooManyConnections.ToString()), SocketFlags.None, out _);
            client.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // The client is gone already; nothing to tell it.
        }
        finally
        {
            client.Dispose();
        }
    }
}
