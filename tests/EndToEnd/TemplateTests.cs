using MailKit.Net.Smtp;

namespace Failmail.Tests.EndToEnd;

// DotLiquid under native AOT: the --template body and Go-form expressions, rendered by the
// binary in the real pipeline and by `failmail preview`.
[Trait("Category", "EndToEnd")]
public sealed class TemplateTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static string Fixture(string name) => Path.Combine(TestPaths.RepoRoot, "tests", "fixtures", name);

    [Fact]
    public async Task TemplateBodyWithStandardAndRegexFiltersReachesTheRelay()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", $"127.0.0.1:{sink.Port}", "--bind-http", "",
                "--wait-period", "500ms", "--max-wait", "5s", "--poll", "100ms",
                "--template", Fixture("digest.liquid"),
                "--group-expr", "{{match \"\\[\\w+\\]\" (.Header.Get \"Subject\")}}");

            using (var client = new SmtpClient())
            {
                await client.ConnectAsync("127.0.0.1", failmail.SmtpPort, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
                await client.SendAsync(PipelineTests.Alert("[db] disk full", "one", "ops@example.com")).WaitAsync(Patience);
                await client.SendAsync(PipelineTests.Alert("[db] disk full", "two", "ops@example.com")).WaitAsync(Patience);
                await client.SendAsync(PipelineTests.Alert("[web] 500 errors", "three", "ops@example.com")).WaitAsync(Patience);
                await client.DisconnectAsync(quit: true).WaitAsync(Patience);
            }

            await failmail.WaitUntilAsync(() => sink.Messages().Count >= 1, Patience, "the digest");
            var digest = Assert.Single(sink.Messages());
            Assert.Equal("[failmail] 3 instances of 2 messages", digest.Message.Subject);
            var lines = (digest.Message.TextBody ?? "").Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
            Assert.Equal("3 alerts for OPS@EXAMPLE.COM", lines[0]);
            Assert.Contains("* 2x disk full ([db])", lines);
            Assert.Contains("* 1x 500 errors ([web])", lines);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task PreviewPrintsOneDigestPerRecipient()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var (exit, stdout, stderr) = await FailmailProcess.RunToExitAsync(dir,
                "--from", "failmail@preview.test", "preview", Fixture("one.eml"), Fixture("two.eml"), Fixture("three.eml"));
            Assert.True(exit == 0, stderr);
            Assert.Contains("Subject: [failmail] 3 instances of 2 messages", stdout, StringComparison.Ordinal);
            Assert.Contains("Subject: [failmail] 1 instance: [web] 500 errors", stdout, StringComparison.Ordinal);
            Assert.Contains("- Message group 1 of 2: 2 instances", stdout, StringComparison.Ordinal);
            Assert.Contains("Oldest message: Tue, 01 Jul 2014 16:34:56 +0000", stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task UnsupportedGoTemplateIsAStartupErrorShowingTheLiquidForm()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var (exit, _, stderr) = await FailmailProcess.RunToExitAsync(dir,
                "--group-expr", "{{printf \"%s\" (.Header.Get \"Subject\")}}", "--bind-http", "", "--bind-addr", "127.0.0.1:0");
            Assert.Equal(2, exit);
            var line = Assert.Single(stderr.Split('\n'), l => l.StartsWith("failmail: ", StringComparison.Ordinal));
            Assert.Contains("--group-expr", line, StringComparison.Ordinal);
            Assert.Contains("{{", line, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
