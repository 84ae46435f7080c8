using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Failmail.Tests.Outputs.Irc;

// A loopback IRC server for the cases a real one (ngircd) cannot show: SASL, a taken nick,
// refusals. Each accepted connection runs the script; every line the client sent is kept.
internal sealed class ScriptedIrcServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<IrcScript, Task> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly List<string> _received = [];
    private int _connections;

    public ScriptedIrcServer(Func<IrcScript, Task> script)
    {
        _script = script;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections => Volatile.Read(ref _connections);

    public IReadOnlyList<string> Received
    {
        get
        {
            lock (_received)
            {
                return _received.ToList();
            }
        }
    }

    private async Task AcceptAsync()
    {
        var sessions = new List<Task>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                sessions.Add(RunAsync(client));
            }
        }
        catch (OperationCanceledException)
        {
        }
        await Task.WhenAll(sessions).WaitAsync(TimeSpan.FromSeconds(10));
    }

    private async Task RunAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var script = new IrcScript(new StreamReader(stream, new UTF8Encoding(false)), stream, _received, _stop.Token);
            try
            {
                await _script(script);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}

// One connection's side of the script.
internal sealed class IrcScript(StreamReader reader, Stream stream, List<string> received, CancellationToken stop)
{
    public async Task<string> ReadAsync()
    {
        var line = await reader.ReadLineAsync(stop).AsTask().WaitAsync(TimeSpan.FromSeconds(10), stop) ?? throw new IOException("client closed");
        lock (received)
        {
            received.Add(line);
        }
        return line;
    }

    // Reads until a line starting with prefix (bounded), and returns it.
    public async Task<string> ExpectAsync(string prefix)
    {
        for (var i = 0; i < 50; i++)
        {
            var line = await ReadAsync();
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line;
            }
        }
        throw new InvalidOperationException("no line starting with " + prefix);
    }

    public async Task SendAsync(params string[] lines)
    {
        var bytes = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\r\n")));
        await stream.WriteAsync(bytes, stop);
        await stream.FlushAsync(stop);
    }

    // Welcome, no MOTD, and the JOIN's names list: a server that accepts everything.
    public async Task RegisterAndJoinAsync(string nick = "bot")
    {
        await ExpectAsync("USER ");
        await SendAsync($":s 001 {nick} :Welcome", $":s 422 {nick} :MOTD File is missing");
        var join = await ExpectAsync("JOIN ");
        var channel = join.Split(' ')[1];
        await SendAsync($":{nick}!u@h JOIN {channel}", $":s 353 {nick} = {channel} :{nick}", $":s 366 {nick} {channel} :End of NAMES list");
    }

    // Answers PING with PONG until the client's next PING, returning the lines between.
    public async Task<List<string>> ReadPostAsync()
    {
        var lines = new List<string>();
        for (var i = 0; i < 200; i++)
        {
            var line = await ReadAsync();
            if (line.StartsWith("PING ", StringComparison.Ordinal))
            {
                await SendAsync(":s PONG s " + line[5..]);
                return lines;
            }
            lines.Add(line);
        }
        throw new InvalidOperationException("no PING after the post");
    }
}
