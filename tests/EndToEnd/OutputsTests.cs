using System.Text.Json;
using Failmail.Tests.Outputs;
using Failmail.Tests.Relay;
using MailKit.Net.Smtp;

namespace Failmail.Tests.EndToEnd;

// Issue 14 through the AOT binary: aliases, then --transport-map, route each digest to Slack,
// PagerDuty and/or the relay (local test servers), and a kill -9 while a post is in flight
// loses nothing.
[Trait("Category", "EndToEnd")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class OutputsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static async Task SendAsync(int port, string to, int count, int subjects)
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
        for (var i = 0; i < count; i++)
        {
            await client.SendAsync(PipelineTests.Alert($"disk full on db{i % subjects}", "/var is full", to)).WaitAsync(Patience);
        }
        await client.DisconnectAsync(quit: true).WaitAsync(Patience);
    }

    private static string WriteMap(string dir, string text)
    {
        var path = Path.Combine(dir, "transport");
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    [Fact]
    public async Task AliasesAndTheMapGiveOneSlackPostAndOnePagerDutyEventPerDigestAndTheSmtpCopy()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var http = new TestHttpServer();
            await using var relay = new TestSmtpServer();
            File.WriteAllText(Path.Combine(dir, "aliases"), "root: ops-page@example.com\n");
            var map = WriteMap(dir, $"""
                # pages: PagerDuty, the team's channel and mail
                ops-page@example.com  pagerduty+{http.Url("/v2/enqueue")}?routing_key=R0UTE, slack+{http.Url("/services/T/B/X")}, smtp
                @example.com          slack+{http.Url("/services/T/B/X")}
                """);
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", relay.Address, "--fail-dir", Path.Combine(dir, "failed"),
                "--qualify-domain", "hub.test", "--aliases", Path.Combine(dir, "aliases"), "--transport-map", map,
                "--wait-period", "2s", "--max-wait", "60s", "--poll", "1s", "--from", "failmail@hub.test");

            await Task.WhenAll(SendAsync(failmail.SmtpPort, "root@hub.test", 300, 10), SendAsync(failmail.SmtpPort, "dev@example.com", 50, 5));

            var mail = await relay.ReceiveAsync().WaitAsync(Patience);
            await failmail.WaitUntilAsync(() => http.Requests.Count >= 3, Patience, "three posts");
            // A quiet period more: nothing else may arrive.
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.Single(relay.Messages);
            Assert.Equal(["ops-page@example.com"], mail.Recipients);
            var posts = http.Requests.ToList();
            Assert.Equal(3, posts.Count);
            var pd = Assert.Single(posts, p => p.Path == "/v2/enqueue");
            using var event_ = pd.Json();
            Assert.Equal("R0UTE", event_.RootElement.GetProperty("routing_key").GetString());
            Assert.Equal("trigger", event_.RootElement.GetProperty("event_action").GetString());
            Assert.Equal(300, event_.RootElement.GetProperty("payload").GetProperty("custom_details").GetProperty("messages").GetInt32());
            Assert.Equal("ops-page@example.com", event_.RootElement.GetProperty("payload").GetProperty("custom_details").GetProperty("recipient").GetString());
            var slack = posts.Where(p => p.Path == "/services/T/B/X").Select(p => p.Json().RootElement.GetProperty("text").GetString()).Order().ToList();
            Assert.Equal(2, slack.Count);
            Assert.StartsWith("300 messages in 10 groups", slack[0], StringComparison.Ordinal);
            Assert.StartsWith("50 messages in 5 groups", slack[1], StringComparison.Ordinal);

            await failmail.WaitUntilAsync(() => IncomingStore.Pending(Path.Combine(dir, "run", "incoming")) == 0, Patience, "the incoming store to empty");
            // /metrics counts each output.
            using var client = new HttpClient();
            var metrics = await client.GetStringAsync($"http://127.0.0.1:{failmail.HttpPort}/metrics").WaitAsync(Patience);
            Assert.Matches(@"failmail_output_sent_total\{output=""slack-[0-9a-f]{12}"",kind=""slack""\} 2", metrics);
            Assert.Matches(@"failmail_output_sent_total\{output=""pagerduty-[0-9a-f]{12}"",kind=""pagerduty""\} 1", metrics);
            Assert.Matches(@"failmail_output_queue_depth\{output=""pagerduty-[0-9a-f]{12}"",kind=""pagerduty""\} 0", metrics);
            Assert.DoesNotContain("R0UTE", failmail.Stderr + metrics, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task KillNineWhileAPostIsInFlightLosesNothing()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var http = new TestHttpServer();
            http.Enqueue(new TestHttpServer.Reply(200, "", []) { Hang = true });
            var map = WriteMap(dir, $"* webhook+{http.Url("/hook")}\n");
            using var listener = LoopbackListener.Bind();
            var workDir = Path.Combine(dir, "run");
            string[] args = ["--relay-addr", "debug", "--fail-dir", Path.Combine(dir, "failed"), "--transport-map", map,
                "--wait-period", "2s", "--max-wait", "60s", "--poll", "1s", "--bind-http", ""];
            TestHttpServer.Request first;
            await using (var failmail = await FailmailProcess.StartServingOnAsync(listener, workDir, args))
            {
                await SendAsync(failmail.SmtpPort, "ops@example.com", 40, 4);
                // The post is out and unanswered: the digest is only in the output's queue now.
                first = await http.NextAsync();
                await failmail.WaitUntilAsync(() => IncomingStore.Pending(Path.Combine(workDir, "incoming")) == 0, Patience, "the batch to leave the store");
                failmail.Signal(Signals.Kill);
                await failmail.WaitForExitAsync(Patience);
            }
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(workDir, "outgoing", "outputs"), "*.json", SearchOption.AllDirectories));

            await using (var again = await FailmailProcess.StartServingOnAsync(listener, workDir, args))
            {
                // The post again (a repeat of one that may have been taken): every message is in
                // it, merged with any digest that queued behind it.
                var second = await http.NextAsync();
                using var json = second.Json();
                Assert.Equal(40, json.RootElement.GetProperty("total_messages").GetInt32());
                if (json.RootElement.GetProperty("digests").GetInt32() == 1)
                {
                    Assert.Equal(first.Headers["X-Failmail-Delivery"], second.Headers["X-Failmail-Delivery"]);
                }
                await again.WaitUntilAsync(() => Directory.GetFiles(Path.Combine(workDir, "outgoing", "outputs"), "*.json", SearchOption.AllDirectories).Length == 0,
                    Patience, "the output queue to empty");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task AnIrcTargetPostsTheDigestIntoTheChannelOfARealServer()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var ngircd = await Ngircd.StartAsync(Path.Combine(dir, "ngircd"));
            using var person = new System.Net.Sockets.TcpClient();
            await person.ConnectAsync("127.0.0.1", ngircd.Port).WaitAsync(Patience);
            var stream = person.GetStream();
            using var reader = new StreamReader(stream, new System.Text.UTF8Encoding(false));
            async Task SendLineAsync(string line) => await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(line + "\r\n")).AsTask().WaitAsync(Patience);
            async Task<string> ReadUntilAsync(Func<string, bool> match)
            {
                for (var i = 0; i < 500; i++)
                {
                    var line = await reader.ReadLineAsync().WaitAsync(Patience) ?? throw new IOException("ngircd closed the connection");
                    if (line.StartsWith("PING ", StringComparison.Ordinal))
                    {
                        await SendLineAsync("PONG " + line[5..]);
                    }
                    if (match(line))
                    {
                        return line;
                    }
                }
                throw new InvalidOperationException("no such line from ngircd");
            }
            await SendLineAsync("NICK person");
            await SendLineAsync("USER person 0 * :test");
            await SendLineAsync("JOIN #ops");
            await ReadUntilAsync(l => l.Contains(" 366 ", StringComparison.Ordinal));

            var map = WriteMap(dir, $"* irc://alerts@127.0.0.1:{ngircd.Port}/ops\n");
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", "debug", "--fail-dir", Path.Combine(dir, "failed"), "--transport-map", map,
                "--wait-period", "1s", "--max-wait", "60s", "--poll", "1s", "--bind-http", "");
            await SendAsync(failmail.SmtpPort, "ops@example.com", 6, 2);

            var headline = await ReadUntilAsync(l => l.Contains(" PRIVMSG #ops :failmail: ", StringComparison.Ordinal));
            Assert.StartsWith(":alerts!", headline, StringComparison.Ordinal);
            Assert.Contains(":failmail: 6 messages in 2 groups: disk full on db", headline, StringComparison.Ordinal);
            Assert.EndsWith("- 3× disk full on db0", await ReadUntilAsync(l => l.Contains(" PRIVMSG #ops :", StringComparison.Ordinal)), StringComparison.Ordinal);
            Assert.EndsWith("- 3× disk full on db1", await ReadUntilAsync(l => l.Contains(" PRIVMSG #ops :", StringComparison.Ordinal)), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ARefusedPostGoesToTheFailDirAndResendPostsItAgain()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var http = new TestHttpServer();
            http.Enqueue(404, "no_service");
            var map = WriteMap(dir, $"ops@example.com slack+{http.Url("/services/T/B/X")}\n");
            var run = Path.Combine(dir, "run");
            var failed = Path.Combine(dir, "failed");
            string[] flags = ["--relay-addr", "debug", "--fail-dir", failed, "--transport-map", map, "--queue-dir", Path.Combine(run, "outgoing")];
            await using var failmail = await FailmailProcess.StartServingAsync(run,
                [.. flags, "--wait-period", "300ms", "--max-wait", "5s", "--poll", "300ms", "--bind-http", ""]);
            await SendAsync(failmail.SmtpPort, "ops@example.com", 3, 1);
            var failedPosts = Path.Combine(failed, "outputs");
            // "*.json": the fail-dir file is written as a hidden .tmp first, then renamed.
            await failmail.WaitUntilAsync(() => Directory.Exists(failedPosts) && Directory.GetFiles(failedPosts, "*.json").Length == 1, Patience, "the post in the fail-dir");
            using (var failure = JsonDocument.Parse(File.ReadAllBytes(Directory.GetFiles(failedPosts, "*.json")[0])))
            {
                Assert.Equal(404, failure.RootElement.GetProperty("status").GetInt32());
                Assert.Equal("no_service", failure.RootElement.GetProperty("response").GetString());
            }

            var (exit, stdout, stderr) = await FailmailProcess.RunToExitAsync(dir, [.. flags, "resend", failed]);
            Assert.True(exit == 0, stderr);
            Assert.Contains("queued 1 output post(s)", stdout, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(failedPosts));
            // The running daemon adopts it at its next --poll and posts it (200 this time).
            await failmail.WaitUntilAsync(() => http.Requests.Count == 2, Patience, "the resent post");
            using var json = http.Requests.Last().Json();
            Assert.StartsWith("3 messages in 1 group: disk full on db0", json.RootElement.GetProperty("text").GetString(), StringComparison.Ordinal);
            // A second resend finds nothing to do.
            (exit, stdout, _) = await FailmailProcess.RunToExitAsync(dir, [.. flags, "resend", failed]);
            Assert.DoesNotContain("output post", stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ABadMapStopsTheStartWithOneLinePerProblemAndNoSecret()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var map = WriteMap(dir, "ops@example.com slack+ftp://s3cret@h/x\n@example.com pagerduty:${FAILMAIL_TEST_UNSET_KEY}\n");
            var (exit, _, stderr) = await FailmailProcess.RunToExitAsync(dir, "--transport-map", map, "--bind-http", "", "--bind-addr", "127.0.0.1:0");
            Assert.Equal(2, exit);
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains("--transport-map", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, lines.Count);
            Assert.Contains($"{map}:1:", lines[0], StringComparison.Ordinal);
            Assert.Contains($"{map}:2: environment variable FAILMAIL_TEST_UNSET_KEY is not set", lines[1], StringComparison.Ordinal);
            Assert.DoesNotContain("s3cret", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
