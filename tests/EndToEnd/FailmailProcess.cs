using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Failmail.Tests.EndToEnd;

// The AOT binary started for one test, in its own working directory, on an SMTP socket bound
// by the test (LoopbackListener, --socket-fd).
// Dispose kills it by pid if it is still running and deletes the directory.
internal sealed partial class FailmailProcess : IAsyncDisposable
{
    private const string SmtpListening = "SMTP listening on ";

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly bool _ownsDirectory;

    private FailmailProcess(Process process, string workDir, int smtpPort, bool ownsDirectory)
    {
        _process = process;
        WorkDir = workDir;
        SmtpPort = smtpPort;
        _ownsDirectory = ownsDirectory;
    }

    public string WorkDir { get; }

    public int SmtpPort { get; }

    // The HTTP server's port, read from failmail's "HTTP stats listening on" line; 0 when
    // HTTP is off (--bind-http "").
    public int HttpPort { get; private set; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Stdout
    {
        get { lock (_stdout) { return _stdout.ToString(); } }
    }

    public string Stderr
    {
        get { lock (_stderr) { return _stderr.ToString(); } }
    }

    // Runs the binary to completion (for --version, --write-config, bad configs).
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToExitAsync(string workDir, params string[] args)
    {
        await using var process = Start(workDir, smtpPort: 0, ownsDirectory: false, args, inherited: null);
        await process._process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        process._process.WaitForExit(); // drains the redirected output
        return (process.ExitCode, process.Stdout, process.Stderr);
    }

    // Starts failmail on a listening socket bound here and handed over with --socket-fd, and
    // waits until it accepts. This process closes its copy once the child has it, so the child
    // is the only holder, as if it had bound the port itself. Without a --bind-http of the
    // test's own, the HTTP server gets an ephemeral port (HttpPort) rather than the default
    // localhost:8025, which every other failmail on the machine would want too.
    public static async Task<FailmailProcess> StartServingAsync(string? workDir, params string[] args)
    {
        using var listener = LoopbackListener.Bind();
        return await ServeAsync(listener, workDir ?? TestPaths.NewTempDir(), ownsDirectory: workDir is null, args);
    }

    // Starts failmail on a socket the caller holds and keeps: a restart after kill -9 hands the
    // same socket to the next process, so the port is never free for another process to take
    // while failmail is down. Connections made meanwhile wait in the socket's queue for the
    // next process, as under systemd socket activation, instead of being refused.
    public static Task<FailmailProcess> StartServingOnAsync(LoopbackListener listener, string workDir, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(listener);
        return ServeAsync(listener, workDir, ownsDirectory: false, args);
    }

    private static async Task<FailmailProcess> ServeAsync(LoopbackListener listener, string workDir, bool ownsDirectory, string[] args)
    {
        // --bind-addr names the same address for anything that reports it; the socket is what
        // failmail listens on.
        var all = new List<string> { "--bind-addr", listener.Address, "--socket-fd", listener.Fd.ToString(CultureInfo.InvariantCulture) };
        var bindHttp = args.AsSpan().IndexOf("--bind-http");
        var http = bindHttp < 0 || (bindHttp + 1 < args.Length && args[bindHttp + 1].Length > 0);
        if (bindHttp < 0)
        {
            all.AddRange(["--bind-http", "127.0.0.1:0"]);
        }
        // The spool's default is the host's /var/spool/failmail, which every test's failmail
        // would share (and import each other's mail from): each gets its own unless it says.
        if (!args.Any(a => a.Contains("spool-dir", StringComparison.Ordinal) || a.Contains("config", StringComparison.Ordinal)))
        {
            all.AddRange(["--spool-dir", Path.Combine(workDir, "spool")]);
        }
        all.AddRange(args);
        Directory.CreateDirectory(workDir);
        var process = Start(workDir, listener.Port, ownsDirectory, all.ToArray(), listener);
        try
        {
            // The socket accepts connections into its queue from the start, so a connect says
            // nothing: wait for failmail's own "listening" lines (SMTP, then HTTP).
            await process.WaitUntilAsync(() => process.HasExited || (process.Stderr.Contains(SmtpListening, StringComparison.Ordinal)
                && (!http || process.ReadHttpPort())), TimeSpan.FromSeconds(20), "failmail to start listening");
            if (process.HasExited)
            {
                process._process.WaitForExit(); // drains the redirected output
                throw new InvalidOperationException($"exited with status {process.ExitCode}");
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
        {
            var stderr = process.Stderr;
            await process.DisposeAsync();
            throw new InvalidOperationException($"failmail did not start listening ({ex.Message}); stderr:\n{stderr}", ex);
        }
        return process;
    }

    // Starts failmail with exactly these arguments and does not wait for a port (--sender alone
    // listens on none).
    public static FailmailProcess Launch(string workDir, params string[] args)
    {
        Directory.CreateDirectory(workDir);
        return Start(workDir, smtpPort: 0, ownsDirectory: false, args, inherited: null);
    }

    public void Signal(int signal) => Signals.Send(Pid, signal);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    // Waits, in a bounded loop, until the condition holds; fails with the process's stderr.
    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}; failmail stderr:\n{Stderr}");
            }
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        finally
        {
            _process.Dispose();
            if (_ownsDirectory)
            {
                try
                {
                    Directory.Delete(WorkDir, recursive: true);
                }
                catch (IOException)
                {
                    // A child of a reload may still hold files; the temp dir is reaped later.
                }
            }
        }
    }

    private bool ReadHttpPort()
    {
        var match = HttpListening().Match(Stderr);
        if (match.Success)
        {
            HttpPort = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        }
        return match.Success;
    }

    [GeneratedRegex(@"HTTP stats listening on \S+:([0-9]+)")]
    private static partial Regex HttpListening();

    private static FailmailProcess Start(string workDir, int smtpPort, bool ownsDirectory, string[] args, LoopbackListener? inherited)
    {
        var info = new ProcessStartInfo(TestPaths.FailmailBinary)
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var wrapper = new FailmailProcess(process, workDir, smtpPort, ownsDirectory);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (wrapper._stdout) { wrapper._stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (wrapper._stderr) { wrapper._stderr.AppendLine(e.Data); } } };
        ChildProcesses.Start(process, inherited);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return wrapper;
    }
}
