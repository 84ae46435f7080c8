namespace Failmail.Tests.EndToEnd;

// Flags, config files and start-up errors as the AOT binary reports them.
[Trait("Category", "EndToEnd")]
public sealed class CommandLineTests
{
    [Fact]
    public async Task VersionPrintsOneLineAndExitsZero()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var (exit, stdout, _) = await FailmailProcess.RunToExitAsync(dir, "-version");
            Assert.Equal(0, exit);
            Assert.StartsWith("failmail ", stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task WriteConfigOutputReadsBackToTheSameSettings()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var first = Path.Combine(dir, "first.conf");
            var second = Path.Combine(dir, "second.conf");
            var (exit1, _, err1) = await FailmailProcess.RunToExitAsync(dir,
                "--max-wait=7m", "-wait-period", "45s", "--relay-addr", "relay.example:587", "--write-config", first);
            Assert.True(exit1 == 0, err1);
            var text = await File.ReadAllTextAsync(first);
            Assert.Contains("max_wait = 7m0s\n", text, StringComparison.Ordinal);
            Assert.Contains("wait_period = 45s\n", text, StringComparison.Ordinal);
            Assert.Contains("relay_addr = relay.example:587\n", text, StringComparison.Ordinal);
            Assert.Contains("bind_addr = localhost:2525\n", text, StringComparison.Ordinal);

            var (exit2, _, err2) = await FailmailProcess.RunToExitAsync(dir, "--config", first, "--write-config", second);
            Assert.True(exit2 == 0, err2);
            Assert.Equal(text, await File.ReadAllTextAsync(second));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("max_wait = 5x\n", "max_wait")]
    [InlineData("no_such_setting = 1\n", "no_such_setting")]
    public async Task BadConfigExitsTwoWithOneLineNamingTheSettingAndLine(string config, string named)
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var path = Path.Combine(dir, "bad.conf");
            await File.WriteAllTextAsync(path, "# a comment\n\n" + config);
            var (exit, _, stderr) = await FailmailProcess.RunToExitAsync(dir, "--config", path);
            Assert.Equal(2, exit);
            var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(named, line, StringComparison.Ordinal);
            Assert.Contains("3", line, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("--credentials", "nocolon")]
    [InlineData("--rewrite-src", "(unclosed")]
    [InlineData("--tls-cert", "/nonexistent/cert.pem")]
    [InlineData("--batch-expr", "{{ headers.subject | nosuchfilter }")]
    public async Task BadSettingFailsAtStartWithExitTwo(string flag, string value)
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var extra = flag == "--rewrite-src" ? new[] { "--rewrite-dest", "x@example.com" }
                : flag == "--tls-cert" ? new[] { "--tls-key", "/nonexistent/key.pem" }
                : [];
            string[] args = [flag, value, .. extra, "--bind-addr", "127.0.0.1:0", "--bind-http", ""];
            var (exit, _, stderr) = await FailmailProcess.RunToExitAsync(dir, args);
            Assert.Equal(2, exit);
            Assert.Single(stderr.Split('\n'), line => line.StartsWith("failmail: ", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task PortInUseFailsAtStartWithExitTwo()
    {
        await using var first = await FailmailProcess.StartServingAsync(null, "--bind-http", "");
        var dir = TestPaths.NewTempDir();
        try
        {
            var (exit, _, stderr) = await FailmailProcess.RunToExitAsync(dir, "--bind-addr", $"127.0.0.1:{first.SmtpPort}", "--bind-http", "");
            Assert.Equal(2, exit);
            Assert.Contains("in use", stderr, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
