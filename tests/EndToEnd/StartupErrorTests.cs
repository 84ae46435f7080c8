namespace Failmail.Tests.EndToEnd;

// Bad configuration stops failmail at start with exit status 2 and one "failmail: " line that
// names the setting, never a stack trace or a half-started daemon.
[Trait("Category", "EndToEnd")]
public sealed class StartupErrorTests
{
    private static async Task<string> FailsWithOneLineAsync(string dir, params string[] args)
    {
        string[] all = [.. args, "--bind-addr", "127.0.0.1:0", "--bind-http", ""];
        var (exit, _, stderr) = await FailmailProcess.RunToExitAsync(dir, all);
        Assert.True(exit == 2, $"exit {exit}; stderr:\n{stderr}");
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        return Assert.Single(stderr.Split('\n'), line => line.StartsWith("failmail: ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--message-store")]
    [InlineData("--queue-dir")]
    [InlineData("--fail-dir")]
    [InlineData("--all-dir")]
    public async Task MaildirUnderARegularFileNamesTheFlagAndTheFile(string flag)
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "plain"), "not a directory");
            var line = await FailsWithOneLineAsync(dir, flag, "plain/maildir");
            Assert.Contains(flag + " plain/maildir", line, StringComparison.Ordinal);
            Assert.Contains("plain is a file, not a directory", line, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task MissingParentsOfAMaildirAreCreated()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var failmail = await FailmailProcess.StartServingAsync(dir, "--bind-http", "",
                "--message-store", "a/b/incoming", "--queue-dir", "c/d/outgoing", "--fail-dir", "e/f/failed", "--relay-addr", "debug");
            Assert.True(Directory.Exists(Path.Combine(dir, "a", "b", "incoming", "cur")));
            Assert.True(Directory.Exists(Path.Combine(dir, "c", "d", "outgoing", ".meta")));
            Assert.True(Directory.Exists(Path.Combine(dir, "e", "f", "failed", "new")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("directory")]
    [InlineData("missing")]
    public async Task UnusableCertificateNamesTheFlags(string kind)
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var cert = kind switch
            {
                "garbage" => "cert.pem",
                "directory" => "certdir",
                _ => "nonexistent.pem",
            };
            await File.WriteAllTextAsync(Path.Combine(dir, "cert.pem"), "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
            Directory.CreateDirectory(Path.Combine(dir, "certdir"));
            var line = await FailsWithOneLineAsync(dir, "--tls-cert", cert, "--tls-key", cert);
            Assert.Contains("--tls-cert " + cert, line, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("[a-")]
    [InlineData("(?P<x")]
    [InlineData("a{2,1}")]
    public async Task BadRewriteRegexNamesTheFlag(string regex)
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var line = await FailsWithOneLineAsync(dir, "--rewrite-src", regex, "--rewrite-dest", "ops@example.com");
            Assert.Contains("rewrite-src", line, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task HttpPortInUseFailsAtStart()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var dir = TestPaths.NewTempDir();
        try
        {
            var (exit, _, stderr) = await FailmailProcess.RunToExitAsync(dir,
                "--bind-addr", "127.0.0.1:0", "--bind-http", $"127.0.0.1:{port}");
            Assert.True(exit == 2, stderr);
            var line = Assert.Single(stderr.Split('\n'), l => l.StartsWith("failmail: ", StringComparison.Ordinal));
            Assert.Contains("cannot listen for HTTP on 127.0.0.1:" + port, line, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task SmtpPortInUseFailsAtStart()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var dir = TestPaths.NewTempDir();
        try
        {
            var (exit, _, stderr) = await FailmailProcess.RunToExitAsync(dir, "--bind-addr", $"127.0.0.1:{port}", "--bind-http", "");
            Assert.True(exit == 2, stderr);
            var line = Assert.Single(stderr.Split('\n'), l => l.StartsWith("failmail: ", StringComparison.Ordinal));
            Assert.Contains("--bind-addr", line, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
