using System.Runtime.InteropServices;
using System.Text;
using MailKit.Net.Smtp;
using MimeKit;

namespace Failmail.Tests.EndToEnd;

// Anyone who can run `failmail sendmail` can write the spool, so its new/ is hostile input.
// Each entry below sits in spool/new when the AOT binary starts, before a good spooled message:
// the daemon must start, answer, move the entry to spool/bad/ with its reason, import the good
// one, digest and relay a message sent right after, and stop on the first SIGTERM.
[Trait("Category", "EndToEnd")]
public sealed class HostileSpoolTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public static TheoryData<string> Cases => ["fifo", "symlink-to-dev-zero", "comma-list", "thirty-megabytes", "five-thousand-recipients"];

    private static string Envelope(params string[] recipients) =>
        "X-Failmail-Envelope-From: <cron@host1.example.com>\r\n" + string.Concat(recipients.Select(r => $"X-Failmail-Envelope-To: {r}\r\n"));

    // Creates the hostile entry; returns the start of the reason the daemon must give.
    private static string CreateHostile(string kind, string path)
    {
        switch (kind)
        {
            case "fifo":
                Assert.Equal(0, mkfifo(path, 0x1b6));
                return "not a regular file (a FIFO)";
            case "symlink-to-dev-zero":
                File.CreateSymbolicLink(path, "/dev/zero");
                return "not a regular file (a symbolic link)";
            case "comma-list":
                File.WriteAllText(path, Envelope("<a@y.test>, <b@y.test>") + "Subject: comma list\r\n\r\nb\r\n");
                return "envelope line 2: X-Failmail-Envelope-To holds more than one path";
            case "thirty-megabytes":
                using (var file = new FileStream(path, FileMode.CreateNew))
                {
                    file.Write(Encoding.ASCII.GetBytes(Envelope("<ops@example.com>") + "Subject: thirty megabytes\r\n\r\n"));
                    var line = Encoding.ASCII.GetBytes(new string('x', 998) + "\r\n");
                    while (file.Length < 30_000_000)
                    {
                        file.Write(line);
                    }
                }
                return "file of 30";
            case "five-thousand-recipients":
                File.WriteAllText(path, Envelope([.. Enumerable.Range(0, 5000).Select(i => $"<r{i}@y.test>")]) + "Subject: many\r\n\r\nb\r\n");
                return "more than 100 recipients (--max-recipients)";
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task TheDaemonStartsMovesTheEntryAsideRelaysAndStops(string kind)
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var spool = Path.Combine(dir, "spool");
            var newDir = Path.Combine(spool, "new");
            Directory.CreateDirectory(newDir);
            Directory.CreateDirectory(Path.Combine(spool, "tmp"));
            Directory.CreateDirectory(Path.Combine(spool, "cur"));
            const string Hostile = "1700000000.M1P1.hostile";
            var reason = CreateHostile(kind, Path.Combine(newDir, Hostile));
            await File.WriteAllTextAsync(Path.Combine(newDir, "1700000001.M1P1.good"),
                Envelope("<ops@example.com>") + "From: cron@host1.example.com\r\nSubject: spooled good\r\n\r\nb\r\n");

            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", $"127.0.0.1:{sink.Port}", "--bind-http", "", "--spool-dir", spool,
                "--wait-period", "300ms", "--max-wait", "2s", "--poll", "100ms");

            using (var client = new SmtpClient())
            {
                await client.ConnectAsync("127.0.0.1", failmail.SmtpPort, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
                var message = new MimeMessage();
                message.From.Add(MailboxAddress.Parse("app@example.com"));
                message.To.Add(MailboxAddress.Parse("ops@example.com"));
                message.Subject = "sent after";
                message.Body = new TextPart("plain") { Text = "body" };
                await client.SendAsync(message).WaitAsync(Patience);
                await client.DisconnectAsync(quit: true).WaitAsync(Patience);
            }

            string Digested() => string.Concat(sink.Messages().Where(m => m.Recipients.SequenceEqual(["ops@example.com"])).Select(m => m.Message.TextBody ?? ""));
            await failmail.WaitUntilAsync(() => Digested().Contains("Subject: \"sent after\"", StringComparison.Ordinal)
                && Digested().Contains("Subject: \"spooled good\"", StringComparison.Ordinal), Patience, "digests of the sent and the spooled message");

            Assert.Empty(Directory.GetFileSystemEntries(newDir));
            var bad = Path.Combine(spool, "bad");
            Assert.True(Path.Exists(Path.Combine(bad, Hostile)));
            Assert.StartsWith(reason, await File.ReadAllTextAsync(Path.Combine(bad, Hostile + ".reason")), StringComparison.Ordinal);
            var warning = Assert.Single(failmail.Stderr.Split('\n'), l => l.Contains($"spool entry {Hostile}", StringComparison.Ordinal));
            Assert.Contains($"refused: {reason}", warning, StringComparison.Ordinal);
            // Nothing of the hostile entry went anywhere but bad/.
            Assert.All(sink.Messages(), m => Assert.Equal(["ops@example.com"], m.Recipients));

            failmail.Signal(Signals.Term);
            Assert.Equal(0, await failmail.WaitForExitAsync(Patience));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // DllImport keeps the test project free of unsafe code (as Signals).
    private static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);
#pragma warning restore SYSLIB1054
}
