using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Failmail.Tests.EndToEnd;

// Issue 16: --master under a real supervisord and a real runsv, each running the examples/
// file as it is (paths, ports and the relay substituted; a few test timings appended).
// Under smtp-source load a reload keeps the supervisor's pid, refuses no connection, loses no
// message, and a new binary installed over the old one is what serves afterwards.
[Trait("Category", "EndToEnd")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class SupervisorTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const int Messages = 100;

    [Fact]
    public async Task SupervisordSignalUsr1ReloadsOntoANewBinaryWithTheSamePid()
    {
        using var run = new Run();
        await using var sink = await SmtpSink.StartAsync(Path.Combine(run.Dir, "sink"));
        var program = run.Substitute(await File.ReadAllTextAsync(Path.Combine(TestPaths.RepoRoot, "examples", "supervisord", "failmail.conf")), sink.Port)
            .Replace("user=failmail", "user=root", StringComparison.Ordinal);
        var conf = Path.Combine(run.Dir, "supervisord.conf");
        await File.WriteAllTextAsync(Path.Combine(run.Dir, "failmail.conf"), program);
        await File.WriteAllTextAsync(conf, $"""
            [unix_http_server]
            file={run.Dir}/supervisor.sock
            [supervisord]
            logfile={run.Dir}/supervisord.log
            pidfile={run.Dir}/supervisord.pid
            childlogdir={run.Dir}
            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
            [supervisorctl]
            serverurl=unix://{run.Dir}/supervisor.sock
            [include]
            files = {run.Dir}/failmail.conf
            """);
        run.Supervisor = ChildProcesses.Start(Info("supervisord", "-n", "-c", conf));

        async Task<int> StatusPidAsync()
        {
            string status = "";
            for (var i = 0; i < 100; i++)
            {
                status = (await RunAsync("supervisorctl", "-c", conf, "status", "failmail")).Output;
                if (PidPattern().Match(status) is { Success: true } match)
                {
                    return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                }
                await Task.Delay(100);
            }
            throw new TimeoutException("supervisorctl status shows no running failmail: " + status);
        }

        await ReloadUnderLoadAsync(run, sink, Path.Combine(run.Log, "failmail.log"), StatusPidAsync,
            async () => Assert.Equal(0, (await RunAsync("supervisorctl", "-c", conf, "signal", "USR1", "failmail")).ExitCode));

        Signals.Send(run.Supervisor.Id, Signals.Term);
        await run.Supervisor.WaitForExitAsync().WaitAsync(Patience);
        Assert.Contains("master: stopped, exit status 0", await File.ReadAllTextAsync(Path.Combine(run.Log, "failmail.log")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunsvHupReloadsOntoANewBinaryWithTheSamePid()
    {
        using var run = new Run();
        await using var sink = await SmtpSink.StartAsync(Path.Combine(run.Dir, "sink"));
        var service = Path.Combine(run.Dir, "sv", "failmail");
        Directory.CreateDirectory(Path.Combine(service, "log"));
        var example = Path.Combine(TestPaths.RepoRoot, "examples", "runit", "failmail");
        var script = run.Substitute(await File.ReadAllTextAsync(Path.Combine(example, "run")), sink.Port)
            .Replace("chpst -u failmail", "chpst -u root", StringComparison.Ordinal)
            .Replace("--relay-addr=smtp.example.com:25", "--relay-addr=127.0.0.1:" + sink.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(service, "run"), script);
        await File.WriteAllTextAsync(Path.Combine(service, "log", "run"), run.Substitute(await File.ReadAllTextAsync(Path.Combine(example, "log", "run")), sink.Port));
        foreach (var file in new[] { Path.Combine(service, "run"), Path.Combine(service, "log", "run") })
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        run.Supervisor = ChildProcesses.Start(Info("runsv", service));

        async Task<int> StatusPidAsync()
        {
            string status = "";
            for (var i = 0; i < 100; i++)
            {
                status = (await RunAsync("sv", "status", service)).Output;
                if (status.StartsWith("run: ", StringComparison.Ordinal) && PidPattern().Match(status) is { Success: true } match)
                {
                    return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                }
                await Task.Delay(100);
            }
            throw new TimeoutException("sv status shows no running failmail: " + status);
        }

        await ReloadUnderLoadAsync(run, sink, Path.Combine(run.Log, "current"), StatusPidAsync,
            async () => Assert.Equal(0, (await RunAsync("sv", "hup", service)).ExitCode));

        // A broken binary installed by mistake: the reload fails, the serving worker stays.
        var pid = await StatusPidAsync();
        var broken = run.Binary + ".broken";
        await File.WriteAllTextAsync(broken, "#!/bin/sh\necho broken >&2\nexit 2\n");
        File.SetUnixFileMode(broken, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.Move(broken, run.Binary, overwrite: true);
        Assert.Equal(0, (await RunAsync("sv", "hup", service)).ExitCode);
        var log = await WaitForTextAsync(Path.Combine(run.Log, "current"), "keeps serving");
        Assert.Contains("reload failed, still serving: the new worker", log, StringComparison.Ordinal);
        var smtpPort = Match(log, @"master: SMTP listening on 127\.0\.0\.1:(\d+)").Groups[1].Value;
        var (exit, output) = await SmtpSourceTests.RunSmtpSourceAsync("-m", "1", "-S", "after a failed reload", "-f", "app@example.com",
            "-t", "ops@example.com", $"127.0.0.1:{smtpPort}");
        Assert.True(exit == 0, output);
        Assert.Equal(pid, await StatusPidAsync());

        // runsv takes SIGTERM as `sv exit`: the service stops, then runsv.
        Signals.Send(run.Supervisor.Id, Signals.Term);
        await run.Supervisor.WaitForExitAsync().WaitAsync(Patience);
        await WaitForTextAsync(Path.Combine(run.Log, "current"), "master: stopped, exit status 0");
    }

    private static async Task ReloadUnderLoadAsync(Run run, SmtpSink sink, string log, Func<Task<int>> statusPid, Func<Task> reload)
    {
        var oldVersion = Match(await WaitForTextAsync(log, "HTTP stats listening on "), @"failmail master (\S+), pid").Groups[1].Value;
        var text = await File.ReadAllTextAsync(log);
        var smtpPort = int.Parse(Match(text, @"master: SMTP listening on 127\.0\.0\.1:(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        var masterPid = int.Parse(Match(text, @"failmail master \S+, pid (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        var before = await statusPid();
        Assert.Equal(masterPid, before);

        // A new binary installed over the old one (rename, as install(1) does: the running
        // file cannot be written), told apart by its version.
        var newVersion = run.InstallNewBinary(oldVersion);

        // 20 sessions, a connection per message, a second between messages: ~5 s of load.
        var load = SmtpSourceTests.RunSmtpSourceAsync("-s", "20", "-m", Messages.ToString(CultureInfo.InvariantCulture), "-w", "1",
            "-S", "load", "-f", "app@example.com", "-t", "ops@example.com", $"127.0.0.1:{smtpPort}");
        await Task.Delay(1000);
        Assert.False(load.IsCompleted, "the load ended before the reload");
        await reload();
        await WaitForTextAsync(log, $"failmail {newVersion} starting");
        var (exit, output) = await load.WaitAsync(Patience);
        Assert.True(exit == 0, "smtp-source: " + output);
        Assert.DoesNotContain("refused", output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("error", output, StringComparison.OrdinalIgnoreCase);
        Assert.True(load.IsCompleted);

        Assert.Equal(before, await statusPid());
        await WaitForTextAsync(log, "master: worker pid ");
        var httpPort = Match(await File.ReadAllTextAsync(log), @"HTTP stats listening on 127\.0\.0\.1:(\d+)").Groups[1].Value;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
        using var stats = JsonDocument.Parse(await http.GetStringAsync(new Uri("/", UriKind.Relative)).WaitAsync(Patience));
        Assert.Equal(newVersion, stats.RootElement.GetProperty("Version").GetString());

        // Every message is in a digest: the instance counts add up.
        int Delivered() => sink.Messages().Select(m => DigestCount().Match(m.Message.Subject ?? "")).Where(m => m.Success)
            .Sum(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        var deadline = Stopwatch.StartNew();
        while (Delivered() < Messages && deadline.Elapsed < Patience)
        {
            await Task.Delay(100);
        }
        Assert.Equal(Messages, Delivered());
    }

    private static async Task<string> WaitForTextAsync(string path, string text)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < Patience)
        {
            var content = File.Exists(path) ? await File.ReadAllTextAsync(path) : "";
            if (content.Contains(text, StringComparison.Ordinal))
            {
                return content;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"\"{text}\" not in {path}:\n" + (File.Exists(path) ? await File.ReadAllTextAsync(path) : "(none)"));
    }

    private static System.Text.RegularExpressions.Match Match(string text, string pattern)
    {
        var match = Regex.Match(text, pattern);
        Assert.True(match.Success, $"/{pattern}/ not in:\n{text}");
        return match;
    }

    private static ProcessStartInfo Info(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return info;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] args)
    {
        using var process = ChildProcesses.Start(Info(program, args));
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Patience);
        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"pid (\d+)")]
    private static partial Regex PidPattern();

    [GeneratedRegex(@"^\[failmail\] (\d+) instances?: load")]
    private static partial Regex DigestCount();

    // One supervisor run's directory, binary copy and processes; Dispose stops what is left
    // by pid (the supervisor, then any failmail whose pid the log names).
    private sealed class Run : IDisposable
    {
        public Run()
        {
            Dir = TestPaths.NewTempDir();
            Directory.CreateDirectory(Path.Combine(Dir, "bin"));
            Directory.CreateDirectory(Lib);
            Directory.CreateDirectory(Log);
            File.Copy(TestPaths.FailmailBinary, Binary);
        }

        public string Dir { get; }
        public string Lib => Path.Combine(Dir, "lib");
        public string Log => Path.Combine(Dir, "log");
        public string Binary => Path.Combine(Dir, "bin", "failmail");
        public Process? Supervisor { get; set; }

        // The example's paths, address and relay made this run's; test timings appended.
        public string Substitute(string example, int relayPort) => example
            .Replace("/usr/local/bin/failmail", Binary, StringComparison.Ordinal)
            .Replace("/var/lib/failmail", Lib, StringComparison.Ordinal)
            .Replace("/var/log/failmail", Log, StringComparison.Ordinal)
            .Replace("127.0.0.1:2525", "127.0.0.1:0", StringComparison.Ordinal)
            .Replace("smtp.mycompany.example.com:25", "127.0.0.1:" + relayPort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("--shutdown-timeout=20s", $"--shutdown-timeout=20s --bind-http=127.0.0.1:0 --spool-dir={Dir}/spool --wait-period=1s --max-wait=3s --poll=200ms",
                StringComparison.Ordinal);

        // Writes a copy of the binary whose version string differs (same length) and renames
        // it over the installed one. Returns the new version.
        public string InstallNewBinary(string oldVersion)
        {
            var plus = oldVersion.IndexOf('+', StringComparison.Ordinal);
            var tail = plus < 0 ? oldVersion : oldVersion[(plus + 1)..];
            var newTail = new string(tail.Select(c => c == 'f' ? 'e' : 'f').ToArray());
            var newVersion = plus < 0 ? newTail : oldVersion[..(plus + 1)] + newTail;
            var bytes = File.ReadAllBytes(Binary);
            var from = Encoding.UTF8.GetBytes(oldVersion);
            var to = Encoding.UTF8.GetBytes(newVersion);
            var replaced = 0;
            for (var i = bytes.AsSpan().IndexOf(from); i >= 0; i = bytes.AsSpan().IndexOf(from))
            {
                to.CopyTo(bytes, i);
                replaced++;
            }
            Assert.True(replaced > 0, "version string not found in the binary");
            var staged = Binary + ".new";
            File.WriteAllBytes(staged, bytes);
            File.SetUnixFileMode(staged, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.Move(staged, Binary, overwrite: true);
            return newVersion;
        }

        public void Dispose()
        {
            if (Supervisor is { HasExited: false })
            {
                Supervisor.Kill();
                Supervisor.WaitForExit(10_000);
            }
            Supervisor?.Dispose();
            // Master and workers, named in the logs, if a failed test left any running.
            foreach (var file in Directory.GetFiles(Log))
            {
                foreach (System.Text.RegularExpressions.Match match in Regex.Matches(File.ReadAllText(file), @"(?:pid|worker pid) (\d+)"))
                {
                    var pid = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                    try
                    {
                        using var process = Process.GetProcessById(pid);
                        if (process.ProcessName.StartsWith("failmail", StringComparison.Ordinal))
                        {
                            process.Kill();
                        }
                    }
                    catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                    {
                    }
                }
            }
            Directory.Delete(Dir, recursive: true);
        }
    }
}
