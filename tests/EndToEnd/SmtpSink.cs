using System.Diagnostics;
using MimeKit;

namespace Failmail.Tests.EndToEnd;

// Postfix's smtp-sink on a loopback port, dumping every transaction to a file: the real
// upstream relay of the relay and end-to-end tests. Extra arguments script failures:
// -r CMD answers 4xx, -f CMD answers 5xx. Dispose kills it by pid.
internal sealed class SmtpSink : IAsyncDisposable, IDisposable
{
    private readonly Process _process;

    private SmtpSink(Process process, int port, string dumpDir)
    {
        _process = process;
        Port = port;
        DumpDir = dumpDir;
    }

    public int Port { get; }

    public string DumpDir { get; }

    public int Pid => _process.Id;

    public string Address => $"127.0.0.1:{Port}";

    // port 0 picks a free one; a test that restarts the sink passes the old one again.
    // smtp-sink binds its own port (it cannot take a socket), so the port is picked free and
    // may be taken by another process before smtp-sink binds it: then smtp-sink exits, and we
    // start it again on another port (bounded). Success is judged by the sink's own listening
    // socket, never by a connect, which another server on the port would answer.
    public static async Task<SmtpSink> StartAsync(string dumpDir, int port = 0, params string[] extraArgs)
    {
        Directory.CreateDirectory(dumpDir);
        var (process, ports) = await FreePort.StartOwnListenerAsync("smtp-sink", 1, ports =>
        {
            var info = new ProcessStartInfo(TestPaths.SmtpSink)
            {
                UseShellExecute = false,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            // -u: smtp-sink insists on a user when started as root; it keeps that user's rights.
            info.ArgumentList.Add("-u");
            info.ArgumentList.Add(Environment.UserName);
            info.ArgumentList.Add("-d");
            info.ArgumentList.Add(Path.Combine(dumpDir, "%Y%m%d%H%M%S."));
            foreach (var arg in extraArgs)
            {
                info.ArgumentList.Add(arg);
            }
            info.ArgumentList.Add($"127.0.0.1:{ports[0]}");
            info.ArgumentList.Add("256");
            return info;
        }, port != 0 ? [port] : null);
        return new SmtpSink(process, ports[0], dumpDir);
    }

    // The raw dumps, oldest first: smtp-sink's envelope headers, then the message with LF ends.
    public string[] Dumps() =>
        Directory.GetFiles(DumpDir).OrderBy(File.GetLastWriteTimeUtc).ThenBy(f => f, StringComparer.Ordinal).Select(File.ReadAllText).ToArray();

    // Every message received so far, oldest first.
    public IReadOnlyList<SinkMessage> Messages()
    {
        return Directory.GetFiles(DumpDir)
            .Select(path => (path, info: new FileInfo(path)))
            .Where(f => f.info.Length > 0)
            .OrderBy(f => f.info.LastWriteTimeUtc).ThenBy(f => f.path, StringComparer.Ordinal)
            .Select(f => SinkMessage.Parse(File.ReadAllBytes(f.path)))
            .ToList();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        finally
        {
            _process.Dispose();
        }
    }
}

// One dumped transaction: smtp-sink writes the envelope as X-Mail-Args/X-Rcpt-Args headers.
internal sealed record SinkMessage(string MailFrom, IReadOnlyList<string> Recipients, MimeMessage Message)
{
    public static SinkMessage Parse(byte[] dump)
    {
        using var stream = new MemoryStream(dump);
        var message = MimeMessage.Load(stream);
        var from = message.Headers["X-Mail-Args"] ?? "";
        var recipients = message.Headers.Where(h => h.Field == "X-Rcpt-Args").Select(h => Unbracket(h.Value)).ToList();
        foreach (var name in new[] { "X-Client-Addr", "X-Client-Proto", "X-Helo-Args", "X-Mail-Args", "X-Rcpt-Args" })
        {
            message.Headers.RemoveAll(name);
        }
        return new SinkMessage(Unbracket(from.Split(' ')[0]), recipients, message);
    }

    private static string Unbracket(string value)
    {
        value = value.Trim();
        var end = value.IndexOf('>', StringComparison.Ordinal);
        return value.StartsWith('<') && end > 0 ? value[1..end] : value;
    }
}
