using System.Diagnostics;
using MailKit.Net.Smtp;

namespace Failmail.Tests.EndToEnd;

// A full or read-only message store: clients get 452/451 (try again later), stderr says why,
// the process stays up and accepts mail again once space returns. On a real 1 MB tmpfs when
// mount(2) is permitted (root in most containers); otherwise the store's log/ is replaced by
// a regular file, which fails every new message the same way (451), and then put back.
[Trait("Category", "EndToEnd")]
public sealed class DiskFullTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static async Task<int> RunAsync(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        try
        {
            using var process = ChildProcesses.Start(info);
            await process.WaitForExitAsync().WaitAsync(Patience);
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1; // no such program
        }
    }

    private static async Task SendAsync(int port, string subject, int size)
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
        try
        {
            await client.SendAsync(PipelineTests.Alert(subject, new string('x', size), "ops@example.com")).WaitAsync(Patience);
        }
        finally
        {
            await client.DisconnectAsync(quit: true).WaitAsync(Patience);
        }
    }

    // Fills the filesystem with one file until ENOSPC.
    private static void Fill(string path)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 0);
        var chunk = new byte[16 * 1024];
        try
        {
            while (true)
            {
                file.Write(chunk);
            }
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task FullOrReadOnlyStoreIsRefusedTemporarilyAndRecovers()
    {
        var dir = TestPaths.NewTempDir();
        var mount = Path.Combine(dir, "mnt");
        Directory.CreateDirectory(mount);
        var mounted = await RunAsync("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount) == 0;
        try
        {
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            var store = Path.Combine(mount, "incoming");
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", $"127.0.0.1:{sink.Port}", "--bind-http", "", "--message-store", store,
                "--wait-period", "300ms", "--max-wait", "5s", "--poll", "200ms");

            var filler = Path.Combine(mount, "filler");
            // Without tmpfs: a regular file where the store's log/ directory was.
            var log = Path.Combine(store, "log");
            if (mounted)
            {
                Fill(filler);
            }
            else
            {
                Directory.Delete(log, recursive: true);
                await File.WriteAllTextAsync(log, "in the way");
            }

            var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => SendAsync(failmail.SmtpPort, "while full", 100_000));
            Assert.Equal(mounted ? 452 : 451, (int)refused.StatusCode);
            Assert.False(failmail.HasExited);
            await failmail.WaitUntilAsync(() => failmail.Stderr.Contains(mounted ? "No space left on device" : "message not stored", StringComparison.Ordinal),
                Patience, "a log line naming the cause");

            if (mounted)
            {
                // Read-only is the other way a disk refuses: 451, and the same recovery.
                File.Delete(filler);
                Assert.Equal(0, await RunAsync("mount", "-o", "remount,ro", mount));
                var readOnly = await Assert.ThrowsAsync<SmtpCommandException>(() => SendAsync(failmail.SmtpPort, "while read-only", 1000));
                Assert.Equal(451, (int)readOnly.StatusCode);
                Assert.Equal(0, await RunAsync("mount", "-o", "remount,rw", mount));
            }
            else
            {
                File.Delete(log);
                Directory.CreateDirectory(log);
            }

            // Space is back: the same process takes mail and relays it.
            await SendAsync(failmail.SmtpPort, "after recovery", 100_000);
            await failmail.WaitUntilAsync(() => sink.Messages().Count >= 1, Patience, "the digest at smtp-sink");
            var digest = Assert.Single(sink.Messages());
            Assert.Equal("[failmail] 1 instance: after recovery", digest.Message.Subject);
            Assert.False(failmail.HasExited);
        }
        finally
        {
            if (mounted)
            {
                _ = await RunAsync("umount", "-l", mount);
            }
            Directory.Delete(dir, recursive: true);
        }
    }
}
