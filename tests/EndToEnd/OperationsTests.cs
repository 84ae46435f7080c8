using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using MailKit.Net.Smtp;

namespace Failmail.Tests.EndToEnd;

// What an operator sees of the AOT binary: HTTP stats, metrics and health while mail flows,
// sockets handed over by a supervisor or systemd, and the second stop signal.
[Trait("Category", "EndToEnd")]
public sealed class OperationsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task MetricsCountWhatWasSentAndRelayed()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", $"127.0.0.1:{sink.Port}", "--bind-http", "127.0.0.1:0",
                "--wait-period", "300ms", "--max-wait", "5s", "--poll", "100ms");
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{failmail.HttpPort}") };

            using (var client = new SmtpClient())
            {
                await client.ConnectAsync("127.0.0.1", failmail.SmtpPort, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
                for (var i = 0; i < 10; i++)
                {
                    await client.SendAsync(PipelineTests.Alert("metrics", $"body {i}", i % 2 == 0 ? "ops@example.com" : "dev@example.com")).WaitAsync(Patience);
                }
                await client.DisconnectAsync(quit: true).WaitAsync(Patience);
            }
            // A message over --max-message-size is drained, rejected with 552 and counted.
            Assert.StartsWith("552", await SendOversizedAsync(failmail.SmtpPort), StringComparison.Ordinal);
            await failmail.WaitUntilAsync(() => sink.Messages().Count >= 2, Patience, "two digests");
            // smtp-sink has a digest before failmail has read the relay's 250 and counted it.
            var metrics = "";
            for (var attempt = 0; attempt < 100; attempt++)
            {
                metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)).WaitAsync(Patience);
                if (Sample(metrics, "failmail_digests_sent_total") >= sink.Messages().Count
                    && Sample(metrics, "failmail_digest_send_duration_seconds_count") >= sink.Messages().Count)
                {
                    break;
                }
                await Task.Delay(100);
            }
            Assert.Equal(10, Sample(metrics, "failmail_messages_received_total"));
            Assert.Equal(1, Sample(metrics, "failmail_messages_rejected_total"));
            Assert.Equal(sink.Messages().Count, Sample(metrics, "failmail_digests_sent_total"));
            Assert.Equal(0, Sample(metrics, "failmail_relay_failures_total"));
            Assert.Equal(Sample(metrics, "failmail_digests_sent_total"), Sample(metrics, "failmail_digest_send_duration_seconds_count"));
            // The process_* series, read through the AOT binary's System.Diagnostics.Process.
            Assert.InRange(Sample(metrics, "process_resident_memory_bytes"), 4e6, 1e9);
            Assert.InRange(Sample(metrics, "process_open_fds"), 4, 10_000);
            Assert.True(Sample(metrics, "process_cpu_seconds_total") > 0);
            Assert.InRange(Sample(metrics, "process_start_time_seconds"), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);

            using var stats = JsonDocument.Parse(await http.GetStringAsync(new Uri("/", UriKind.Relative)).WaitAsync(Patience));
            Assert.Equal(0, stats.RootElement.GetProperty("ActiveBatches").GetInt32());
            Assert.True(DateTimeOffset.Parse(stats.RootElement.GetProperty("LastReceived").GetString()!, CultureInfo.InvariantCulture).Year > 2000);

            using var health = await http.GetAsync(new Uri("/healthz", UriKind.Relative)).WaitAsync(Patience);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task HealthzIs503WhenTheStoreCannotBeWritten()
    {
        // Started means the HTTP server is listening too (it starts just after the SMTP listener).
        await using var sinkless = await FailmailProcess.StartServingAsync(null, "--relay-addr", "debug",
            "--bind-http", "127.0.0.1:0");
        // A regular file where the store's log/ was: every commit fails, as on a broken disk.
        var log = Path.Combine(sinkless.WorkDir, "incoming", "log");
        Directory.Delete(log, recursive: true);
        await File.WriteAllTextAsync(log, "not a directory");

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{sinkless.HttpPort}") };
        using var health = await http.GetAsync(new Uri("/healthz", UriKind.Relative)).WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Contains("store", await health.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // SMTP says 451 rather than 250, and the server keeps serving.
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", sinkless.SmtpPort, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
        var refused = await Assert.ThrowsAsync<SmtpCommandException>(
            () => client.SendAsync(PipelineTests.Alert("x", "y", "ops@example.com")).WaitAsync(Patience));
        Assert.Equal(4, (int)refused.StatusCode / 100);
        await client.NoOpAsync().WaitAsync(Patience);
    }

    [Theory]
    [InlineData("socket-fd")]
    [InlineData("systemd")]
    public async Task ServesASocketHandedOverBySupervisorOrSystemd(string how)
    {
        var dir = TestPaths.NewTempDir();
        // python3 plays the supervisor: it binds, passes the socket as fd 3 and closes its own
        // copy, so only failmail can accept. LISTEN_PID must name failmail itself, so the shell
        // sets it to its own pid before exec.
        var script = how == "systemd"
            ? "export LISTEN_PID=$$ LISTEN_FDS=1; exec \"$0\" --bind-http '' --relay-addr debug"
            : "exec \"$0\" --socket-fd 3 --bind-http '' --relay-addr debug";
        const string Python = """
            import os, socket, subprocess, sys
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.listen(16)
            if s.fileno() != 3:
                os.dup2(s.fileno(), 3)
            os.set_inheritable(3, True)
            p = subprocess.Popen(["sh", "-c", sys.argv[1], sys.argv[2]], pass_fds=[3], cwd=sys.argv[3])
            port = s.getsockname()[1]
            if s.fileno() != 3:
                os.close(3)
            s.close()
            print(port, p.pid, flush=True)
            p.wait()
            """;
        var info = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-c", Python, script, TestPaths.FailmailBinary, dir })
        {
            info.ArgumentList.Add(arg);
        }
        using var wrapper = ChildProcesses.Start(info);
        var started = (await wrapper.StandardOutput.ReadLineAsync().WaitAsync(Patience))!.Split(' ');
        var port = int.Parse(started[0], CultureInfo.InvariantCulture);
        var childPid = int.Parse(started[1], CultureInfo.InvariantCulture);
        try
        {
            using var client = new SmtpClient();
            await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
            await client.SendAsync(PipelineTests.Alert("handed over", "z", "ops@example.com")).WaitAsync(Patience);
            await client.DisconnectAsync(quit: true).WaitAsync(Patience);
            Assert.Equal(1, IncomingStore.Pending(Path.Combine(dir, "incoming")));
        }
        finally
        {
            Signals.Send(childPid, Signals.Kill);
            await wrapper.WaitForExitAsync().WaitAsync(Patience);
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ASecondSigtermExitsAtOnceAndKeepsTheStore()
    {
        // The relay never answers in time, so the first SIGTERM's final flush would wait.
        using var blackhole = new TcpListener(IPAddress.Loopback, 0);
        blackhole.Start();
        var port = ((IPEndPoint)blackhole.LocalEndpoint).Port;
        await using var failmail = await FailmailProcess.StartServingAsync(null,
            "--relay-addr", $"127.0.0.1:{port}", "--bind-http", "", "--wait-period", "1h", "--max-wait", "2h",
            "--relay-timeout", "1m", "--shutdown-timeout", "30s");
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", failmail.SmtpPort, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
            await client.SendAsync(PipelineTests.Alert("kept", "k", "ops@example.com")).WaitAsync(Patience);
            await client.DisconnectAsync(quit: true).WaitAsync(Patience);
        }
        failmail.Signal(Signals.Term);
        await failmail.WaitUntilAsync(() => failmail.Stderr.Contains("SIGTERM", StringComparison.Ordinal), Patience, "the first SIGTERM");
        var second = Stopwatch.StartNew();
        failmail.Signal(Signals.Term);
        var exit = await failmail.WaitForExitAsync(Patience);
        Assert.True(second.Elapsed < TimeSpan.FromSeconds(10), $"took {second.Elapsed}");
        Assert.NotEqual(0, exit);
        // What was acknowledged is still on disk: as a message, or as a queued digest.
        var stored = IncomingStore.Pending(Path.Combine(failmail.WorkDir, "incoming"))
            + Directory.GetFiles(Path.Combine(failmail.WorkDir, "outgoing", ".meta")).Length;
        Assert.True(stored >= 1);
    }

    // Raw SMTP, because MailKit refuses to send past the advertised SIZE itself.
    private static async Task<string> SendOversizedAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Patience);
        using var stream = tcp.GetStream();
        using var reader = new StreamReader(stream);
        await using var writer = new StreamWriter(stream) { NewLine = "\r\n", AutoFlush = true };
        async Task<string> ReplyAsync()
        {
            string line;
            do
            {
                line = await reader.ReadLineAsync().WaitAsync(Patience) ?? "";
            }
            while (line.Length > 3 && line[3] == '-');
            return line;
        }
        await ReplyAsync();
        foreach (var command in new[] { "EHLO test", "MAIL FROM:<a@example.com>", "RCPT TO:<ops@example.com>", "DATA" })
        {
            await writer.WriteLineAsync(command);
            await ReplyAsync();
        }
        await writer.WriteLineAsync("Subject: too big\r\n");
        var chunk = new string('x', 998);
        for (var i = 0; i < 11 * 1024; i++)
        {
            await writer.WriteLineAsync(chunk);
        }
        await writer.WriteLineAsync(".");
        return await ReplyAsync();
    }

    private static double Sample(string metrics, string name)
    {
        var line = metrics.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
    }
}
