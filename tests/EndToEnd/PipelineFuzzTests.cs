using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Failmail.Batching;

namespace Failmail.Tests.EndToEnd;

// Seeded random envelopes, header blocks, subjects, encodings and MIME structures through the
// AOT binary (SMTP intake, store, batcher, digest builder) to a real relay (smtp-sink). Every
// message the receiver acknowledged ends up counted in a digest or in the quarantine: none is
// stuck and none is lost. CI runs FUZZ_CASES (default 2,000) with FUZZ_SEED (default 11);
// bench/fuzz runs longer campaigns with other seeds.
[Trait("Category", "EndToEnd")]
public sealed partial class PipelineFuzzTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    [Fact]
    public async Task EveryAcknowledgedMessageIsDigestedOrQuarantined()
    {
        var cases = Setting("FUZZ_CASES", 2000);
        var seed = Setting("FUZZ_SEED", 11);
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", $"127.0.0.1:{sink.Port}", "--from", "failmail@test.example", "--bind-http", "",
                "--wait-period", "1s", "--max-wait", "30s", "--poll", "200ms", "--max-message-size", "2000000",
                "--batch-expr", "{{.Header.Get \"X-Team\"}}");
            var random = new Random(seed);
            var generator = new FuzzMessages(random);
            long expected = 0;
            var acknowledged = 0;
            for (var i = 0; i < cases; i++)
            {
                var (from, recipients, message) = generator.Next(i);
                var accepted = await SendAsync(failmail.SmtpPort, from, recipients, message);
                if (accepted.Count > 0)
                {
                    acknowledged++;
                    expected += accepted.Select(RecipientAddress.Normalize).Distinct(StringComparer.Ordinal).Count();
                }
            }
            Assert.True(acknowledged > cases / 2, $"only {acknowledged} of {cases} messages were acknowledged: the generator is too hostile to test the pipeline");

            long Counted() => sink.Messages().Sum(d => TotalMessages(d.Message.TextBody ?? ""));
            long Quarantined() => QuarantinedCopies(Path.Combine(dir, "run", "quarantine"));
            await failmail.WaitUntilAsync(() => Counted() + Quarantined() >= expected, Patience,
                $"{expected} message copies in digests or the quarantine (seed {seed}, {cases} cases)");
            await failmail.WaitUntilAsync(() => IncomingStore.Pending(Path.Combine(dir, "run", "incoming")) == 0, Patience, "the incoming store to empty");
            Assert.Equal(expected, Counted() + Quarantined());
            Assert.Empty(Directory.GetFiles(Path.Combine(dir, "run", "failed", "new")));
            Assert.False(failmail.HasExited, failmail.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // One session; returns the recipients the server took, or none when DATA was refused.
    private static async Task<List<string>> SendAsync(int port, string from, IReadOnlyList<string> recipients, byte[] message)
    {
        await using var smtp = await RawSmtpSession.ConnectAsync(port);
        await smtp.ExpectAsync("EHLO fuzz.example", "250");
        if (!(await smtp.CommandAsync($"MAIL FROM:<{from}>")).StartsWith("250", StringComparison.Ordinal))
        {
            await smtp.CommandAsync("QUIT");
            return [];
        }
        var accepted = new List<string>();
        foreach (var recipient in recipients)
        {
            if ((await smtp.CommandAsync($"RCPT TO:<{recipient}>")).StartsWith("250", StringComparison.Ordinal))
            {
                accepted.Add(recipient);
            }
        }
        if (accepted.Count == 0)
        {
            await smtp.CommandAsync("QUIT");
            return [];
        }
        var reply = await smtp.DataAsync(message);
        await smtp.CommandAsync("QUIT");
        return reply.StartsWith("250", StringComparison.Ordinal) ? accepted : [];
    }

    private static long TotalMessages(string body) =>
        TotalLine().Match(body) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

    // One quarantine file per message copy set: it names the recipients it was kept for.
    private static long QuarantinedCopies(string root)
    {
        var files = new[] { "new", "cur" }.Select(s => Path.Combine(root, s)).Where(Directory.Exists).SelectMany(Directory.GetFiles);
        return files.Sum(f => File.ReadLines(f).TakeWhile(l => l.StartsWith("X-Failmail-", StringComparison.Ordinal))
            .Count(l => l.StartsWith("X-Failmail-Envelope-To:", StringComparison.Ordinal)));
    }

    [GeneratedRegex(@"^Total messages: (\d+)\r?$", RegexOptions.Multiline)]
    private static partial Regex TotalLine();
}
