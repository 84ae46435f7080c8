using System.Diagnostics;

namespace Failmail.Tests.EndToEnd;

// `failmail sendmail` and a `sendmail` link to the AOT binary, as cron runs them, against a
// running failmail that relays to Postfix's smtp-sink; and the spool while the daemon is down.
[Trait("Category", "EndToEnd")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SendmailTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task CronMailIsQualifiedAliasedCanonicalisedMasqueradedAndRelayed()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var aliases = Path.Combine(dir, "aliases");
            await File.WriteAllTextAsync(aliases, "# test\nroot: admin,\n  oncall@example.net\n");
            var recipientCanonical = Path.Combine(dir, "recipient_canonical");
            await File.WriteAllTextAsync(recipientCanonical, "admin admin@ops.example.com\n");
            var senderCanonical = Path.Combine(dir, "sender_canonical");
            await File.WriteAllTextAsync(senderCanonical, "@host1.example.com cron@ops.example.com\n");
            string[] hub =
            [
                "--qualify-domain", "host1.example.com", "--aliases", aliases, "--recipient-canonical", recipientCanonical,
                "--sender-canonical", senderCanonical, "--masquerade-domains", "example.com", "--reply-to", "ops@example.com",
            ];

            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                [
                    "--relay-addr", $"127.0.0.1:{sink.Port}", "--bind-http", "", "--relay-all", "--from", "failmail@example.com",
                    "--wait-period", "300ms", "--max-wait", "2s", "--poll", "100ms", "--spool-dir", Path.Combine(dir, "spool"), .. hub,
                ]);

            // printf 'Subject: cron\n\nout\n' | failmail --bind-addr ... sendmail -t root
            var run = await RunAsync(TestPaths.FailmailBinary, dir, "Subject: cron\n\nout\n", null,
                ["--bind-addr", $"127.0.0.1:{failmail.SmtpPort}", "--qualify-domain", "host1.example.com", "sendmail", "-t", "root"]);
            Assert.True(run.ExitCode == 0, run.Stderr);
            Assert.Equal("", run.Stderr);

            // The same through a link named sendmail, with the settings from $FAILMAIL_CONFIG
            // and cron's own flags.
            var link = Path.Combine(dir, "sendmail");
            File.CreateSymbolicLink(link, TestPaths.FailmailBinary);
            var config = Path.Combine(dir, "failmail.conf");
            await File.WriteAllTextAsync(config, $"bind_addr = 127.0.0.1:{failmail.SmtpPort}\nqualify_domain = host1.example.com\n");
            var linked = await RunAsync(link, dir, "To: root\nSubject: via link\n\nout\n.\nnot part of it\n",
                new Dictionary<string, string> { ["FAILMAIL_CONFIG"] = config }, ["-FCronDaemon", "-B8BITMIME", "-oem", "-t", "-oQ/x"]);
            Assert.True(linked.ExitCode == 0, linked.Stderr);
            Assert.Equal("sendmail: warning: ignoring option -oQ/x\n", linked.Stderr.ReplaceLineEndings("\n"));

            await failmail.WaitUntilAsync(() => sink.Messages().Count(m => m.Message.Headers["X-Failmail-Digest"] is null) >= 2,
                Patience, "both relayed copies at smtp-sink");
            var copies = sink.Messages().Where(m => m.Message.Headers["X-Failmail-Digest"] is null).ToList();

            var cron = Assert.Single(copies, m => m.Message.Subject == "cron");
            // Envelope: root → root@host1.example.com → aliases admin, oncall@example.net →
            // admin@host1.example.com → canonical admin@ops.example.com → masquerade admin@example.com.
            Assert.Equal("cron@example.com", cron.MailFrom);
            Assert.Equal(["admin@example.com", "oncall@example.net"], cron.Recipients.Order(StringComparer.Ordinal));
            // Headers: the added From (the invoking user on host1) → canonical → masquerade.
            Assert.Equal("cron@example.com", cron.Message.From.Mailboxes.Single().Address);
            Assert.Equal("ops@example.com", cron.Message.ReplyTo.Mailboxes.Single().Address);
            Assert.NotNull(cron.Message.MessageId);
            Assert.Equal("out", cron.Message.TextBody?.Trim());

            var viaLink = Assert.Single(copies, m => m.Message.Subject == "via link");
            Assert.Equal(["admin@example.com", "oncall@example.net"], viaLink.Recipients.Order(StringComparer.Ordinal));
            Assert.Equal("CronDaemon", viaLink.Message.From.Mailboxes.Single().Name);
            // The header recipient is qualified and masqueraded, never aliased.
            Assert.Equal("root@example.com", viaLink.Message.To.Mailboxes.Single().Address);
            Assert.Equal("out", viaLink.Message.TextBody?.Trim());

            // And digests of both messages for each final recipient (one digest holding both, or
            // two, depending on whether the second message came within the wait period).
            bool DigestsCover(string recipient) =>
                sink.Messages().Where(m => m.Message.Headers["X-Failmail-Digest"] == "1" && m.Recipients.SequenceEqual([recipient]))
                    .Select(m => m.Message.TextBody ?? "").Aggregate("", string.Concat) is var text
                && text.Contains("Subject: \"cron\"", StringComparison.Ordinal) && text.Contains("Subject: \"via link\"", StringComparison.Ordinal);
            await failmail.WaitUntilAsync(() => DigestsCover("admin@example.com") && DigestsCover("oncall@example.net"),
                Patience, "digests of both messages for both recipients");
            var digestRecipients = sink.Messages().Where(m => m.Message.Headers["X-Failmail-Digest"] == "1").SelectMany(d => d.Recipients).Distinct();
            Assert.Equal(["admin@example.com", "oncall@example.net"], digestRecipients.Order(StringComparer.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // Issue 16: cron runs as any user. With the daemon down, that user's message is stored
    // in the spool the daemon prepared (exit 0, as Postfix's sendmail); it is the user's own,
    // 0640 in the daemon's group, and another user can neither list the spool nor read or
    // delete the message. The daemon's next start imports it.
    [Fact]
    public async Task WhileTheDaemonIsDownAUsersMailIsSpooledPrivatelyAndDeliveredAtItsStart()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            // The users below pass through the test's directory, as they would through /var/spool.
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            var spool = Path.Combine(dir, "spool");
            string[] daemon =
            [
                "--bind-http", "", "--spool-dir", spool, "--qualify-domain", "host1.example.com",
                "--wait-period", "300ms", "--max-wait", "2s", "--poll", "100ms",
            ];
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            await using (var first = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"), ["--relay-addr", $"127.0.0.1:{sink.Port}", .. daemon]))
            {
                first.Signal(Signals.Term);
                Assert.Equal(0, await first.WaitForExitAsync(Patience));
            }
            Assert.Equal("0 3733", await StatAsync("%u %a", Path.Combine(spool, "new")));
            Assert.Equal("0 3733", await StatAsync("%u %a", Path.Combine(spool, "tmp")));
            Assert.Equal("0 711", await StatAsync("%u %a", spool));

            // failmail is not running: nothing answers there. The user's cwd is not writable.
            using var downPort = new RefusedPort();
            var run = await RunAsync("runuser", dir, "Subject: while down\n\nout\n", null,
                ["-u", "nobody", "--", TestPaths.FailmailBinary, "--bind-addr", downPort.Address, "--spool-dir", spool,
                 "--qualify-domain", "host1.example.com", "sendmail", "-t", "root"]);
            Assert.True(run.ExitCode == 0, run.Stderr);
            Assert.Equal("", run.Stderr);
            var spooled = Assert.Single(Directory.GetFiles(Path.Combine(spool, "new")));
            Assert.Equal("65534 0 640", await StatAsync("%u %g %a", spooled));

            // Another user: no listing, no reading, no deleting.
            foreach (var command in new[] { new[] { "ls", Path.Combine(spool, "new") }, ["cat", spooled], ["rm", "-f", spooled] })
            {
                var other = await RunAsync("runuser", dir, "", null, ["-u", "daemon", "--", .. command]);
                Assert.True(other.ExitCode != 0, $"{string.Join(' ', command)} as another user: {other.Stdout}");
                // rm in a sticky directory: EPERM ("Operation not permitted"); the rest EACCES.
                Assert.True(other.Stderr.Contains("Permission denied", StringComparison.Ordinal)
                    || other.Stderr.Contains("Operation not permitted", StringComparison.Ordinal), other.Stderr);
            }
            Assert.True(File.Exists(spooled));

            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"), ["--relay-addr", $"127.0.0.1:{sink.Port}", .. daemon]);
            await failmail.WaitUntilAsync(() => sink.Messages().Count >= 1, Patience, "the spooled message's digest at smtp-sink");
            var digest = Assert.Single(sink.Messages());
            Assert.Equal(["root@host1.example.com"], digest.Recipients);
            Assert.Equal("[failmail] 1 instance: while down", digest.Message.Subject);
            Assert.Empty(Directory.GetFiles(Path.Combine(spool, "new")));
            Assert.Contains("imported spooled message", failmail.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<string> StatAsync(string format, string path)
    {
        var result = await RunAsync("stat", "/", "", null, ["-c", format, path]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return result.Stdout.Trim();
    }

    [Fact]
    public async Task AFinalRefusalIsReportedAndNotSpooled()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var spool = Path.Combine(dir, "spool");
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", "debug", "--bind-http", "", "--max-message-size", "200");
            var body = new string('x', 400);
            var run = await RunAsync(TestPaths.FailmailBinary, dir, $"Subject: big\n\n{body}\n", null,
                ["--bind-addr", $"127.0.0.1:{failmail.SmtpPort}", "--spool-dir", spool, "sendmail", "-i", "ops@example.com"]);
            Assert.Equal(65, run.ExitCode);
            Assert.StartsWith($"sendmail: failmail at 127.0.0.1:{failmail.SmtpPort} refused the message: 552 ", run.Stderr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(spool));

            var usage = await RunAsync(TestPaths.FailmailBinary, dir, "Subject: x\n\n", null,
                ["--bind-addr", $"127.0.0.1:{failmail.SmtpPort}", "--spool-dir", spool, "sendmail", "-t"]);
            Assert.Equal(64, usage.ExitCode);
            Assert.StartsWith("sendmail: no recipients", usage.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // Issue 11: `sendmail -f 'a..b@x.test'` printed a stack trace and exited 1. The address is
    // carried now (quoted where MimeKit needs it); one SMTP would refuse is EX_USAGE in one line.
    [Fact]
    public async Task ASenderWithTwoDotsIsRelayedAndABadOneExits64InOneLine()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", $"127.0.0.1:{sink.Port}", "--bind-http", "", "--from", "failmail@example.com", "--relay-all",
                "--wait-period", "300ms", "--max-wait", "2s", "--poll", "100ms");
            string[] bind = ["--bind-addr", $"127.0.0.1:{failmail.SmtpPort}", "--spool-dir", Path.Combine(dir, "spool"), "sendmail"];

            var bad = await RunAsync(TestPaths.FailmailBinary, dir, "Subject: x\n\nbody\n", null, [.. bind, "-f", "a b@x.test", "ops@example.com"]);
            Assert.Equal(64, bad.ExitCode);
            Assert.Equal("sendmail: bad sender address \"a b@x.test\"\n", bad.Stderr.ReplaceLineEndings("\n"));

            var run = await RunAsync(TestPaths.FailmailBinary, dir, "Subject: two dots\n\nbody\n", null, [.. bind, "-f", "a..b@x.test", "ops@example.com"]);
            Assert.True(run.ExitCode == 0, run.Stderr);
            Assert.Equal("", run.Stderr);
            // --relay-all relays the message itself too, with its own envelope sender, quoted.
            await failmail.WaitUntilAsync(() => sink.Messages().Count >= 2, Patience, "the copy and the digest at smtp-sink");
            var digest = Assert.Single(sink.Messages(), m => m.Message.Headers["X-Failmail-Digest"] is not null);
            Assert.Equal(["ops@example.com"], digest.Recipients);
            Assert.Equal("[failmail] 1 instance: two dots", digest.Message.Subject);
            var copy = Assert.Single(sink.Messages(), m => m.Message.Headers["X-Failmail-Digest"] is null);
            Assert.Equal("\"a..b\"@x.test", copy.MailFrom);
            Assert.Equal("\"a..b\"@x.test", copy.Message.From.Mailboxes.Single().Address);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ABadAliasesFileStopsStartUpNamingTheLine()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var aliases = Path.Combine(dir, "aliases");
            await File.WriteAllTextAsync(aliases, "root: ops@example.com\n# comment\nbackup: :include:/etc/list\n");
            var (code, _, stderr) = await FailmailProcess.RunToExitAsync(dir,
                "--bind-addr", "127.0.0.1:0", "--bind-http", "", "--relay-addr", "debug", "--aliases", aliases);
            Assert.Equal(2, code);
            Assert.Contains($"failmail: {aliases}:3: :include: is not supported", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string program, string workDir, string input,
        IReadOnlyDictionary<string, string>? environment, string[] args)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = workDir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
        using var process = ChildProcesses.Start(info);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.StandardInput.WriteAsync(input).WaitAsync(TimeSpan.FromSeconds(10));
            process.StandardInput.Close();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            return (process.ExitCode, await stdout.WaitAsync(TimeSpan.FromSeconds(10)), await stderr.WaitAsync(TimeSpan.FromSeconds(10)));
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
