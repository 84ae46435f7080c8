using System.Diagnostics;

namespace Failmail.Tests.EndToEnd;

// Postfix's smtp-source, the tool operators smoke-test with, against the AOT binary.
[Trait("Category", "EndToEnd")]
public sealed class SmtpSourceTests
{
    [Fact]
    public async Task TwentySessionsOfTwoThousandMessagesAreAllStored()
    {
        // --receiver alone: nothing is batched away, so the store must hold every message.
        await using var failmail = await FailmailProcess.StartServingAsync(null, "--receiver", "--bind-http", "");
        var (exit, output) = await RunSmtpSourceAsync("-s", "20", "-m", "2000", "-l", "1024", $"127.0.0.1:{failmail.SmtpPort}");
        Assert.True(exit == 0, "smtp-source failed: " + output);

        var incoming = Path.Combine(failmail.WorkDir, "incoming");
        Assert.Equal(2000, IncomingStore.Pending(incoming));
        // All of it in the log, nothing half-received left behind.
        Assert.Empty(Directory.GetFiles(Path.Combine(incoming, "cur")));
        Assert.Empty(Directory.GetFiles(Path.Combine(incoming, "log", "spill")));
    }

    internal static async Task<(int ExitCode, string Output)> RunSmtpSourceAsync(params string[] args)
    {
        var info = new ProcessStartInfo(TestPaths.SmtpSource)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = ChildProcesses.Start(info);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
            return (process.ExitCode, await stdout + await stderr);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }
}
