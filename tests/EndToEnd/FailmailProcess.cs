using System.Diagnostics;
using System.Text;

namespace Failmail.Tests.EndToEnd;

// The AOT binary started for one test, in its own working directory, on a free SMTP port.
// Dispose kills it by pid if it is still running and deletes the directory.
internal sealed class FailmailProcess : IAsyncDisposable
{
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
        await using var process = Start(workDir, smtpPort: 0, ownsDirectory: false, args);
        await process._process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        process._process.WaitForExit(); // drains the redirected output
        return (process.ExitCode, process.Stdout, process.Stderr);
    }

    // Starts failmail with --bind-addr on a free port and waits until it accepts.
    public static Task<FailmailProcess> StartServingAsync(string? workDir, params string[] args) =>
        ServeAsync(FreePort.Next(), workDir ?? TestPaths.NewTempDir(), ownsDirectory: workDir is null, args);

    private static async Task<FailmailProcess> ServeAsync(int port, string workDir, bool ownsDirectory, string[] args)
    {
        var all = new List<string> { "--bind-addr", $"127.0.0.1:{port}" };
        all.AddRange(args);
        Directory.CreateDirectory(workDir);
        var process = Start(workDir, port, ownsDirectory, all.ToArray());
        try
        {
            await FreePort.WaitForListenerAsync(port, () => !process.HasExited, TimeSpan.FromSeconds(20));
        }
        catch
        {
            var stderr = process.Stderr;
            await process.DisposeAsync();
            throw new InvalidOperationException("failmail did not start listening; stderr:\n" + stderr);
        }
        return process;
    }

    // Starts failmail with exactly these arguments and does not wait for a port (--sender alone
    // listens on none).
    public static FailmailProcess Launch(string workDir, params string[] args)
    {
        Directory.CreateDirectory(workDir);
        return Start(workDir, smtpPort: 0, ownsDirectory: false, args);
    }

    // Starts failmail on a given port in an existing directory the caller owns (a restart after
    // kill -9 reuses both); waits until it accepts.
    public static Task<FailmailProcess> StartServingOnPortAsync(int port, string workDir, params string[] args) =>
        ServeAsync(port, workDir, ownsDirectory: false, args);

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

    private static FailmailProcess Start(string workDir, int smtpPort, bool ownsDirectory, string[] args)
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
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return wrapper;
    }
}
