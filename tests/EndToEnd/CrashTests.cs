using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using MailKit.Net.Smtp;
using MimeKit;
using Xunit.Abstractions;

namespace Failmail.Tests.EndToEnd;

// kill -9 at random moments (seeded) while clients send numbered messages and digests flow to
// smtp-sink: every message that got 250 must reach a digest or the fail-dir.
[Trait("Category", "EndToEnd")]
public sealed partial class CrashTests(ITestOutputHelper output)
{
    private const int Kills = 22;
    private const int Sessions = 4;
    private const int MaxMessages = 200_000; // bounds the send loops whatever the speed
    private const int RecentDigests = 3; // a restart may meet a digest re-batched after an earlier kill
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task KillNineAtRandomMomentsLosesNoAcknowledgedMessage()
    {
        var random = new Random(20_261_122);
        var dir = TestPaths.NewTempDir();
        var run = Path.Combine(dir, "run");
        var outgoingMeta = Path.Combine(run, "queue", ".meta");
        // One socket for every failmail of the run: see FailmailProcess.StartServingOnAsync.
        using var listener = LoopbackListener.Bind();
        var port = listener.Port;
        var pids = new HashSet<int>();
        var state = new SendState();
        FailmailProcess? failmail = null;
        SmtpSink? sink = null;
        using var stopSending = new CancellationTokenSource();
        try
        {
            sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            string[] args =
            [
                "--relay-addr", $"127.0.0.1:{sink.Port}", "--bind-http", "",
                "--message-store", "store", "--queue-dir", "queue", "--fail-dir", "failed",
                "--wait-period", "200ms", "--max-wait", "1s", "--poll", "100ms",
                "--retry-min", "100ms", "--retry-max", "500ms", "--shutdown-timeout", "10s",
            ];
            failmail = await FailmailProcess.StartServingOnAsync(listener, run, args);
            pids.Add(failmail.Pid);

            var senders = Enumerable.Range(0, Sessions).Select(_ => Task.Run(() => SendLoopAsync(port, state, stopSending.Token))).ToArray();
            var killsDuringRelay = 0;
            var failuresBefore = 0L;
            var killsHittingClients = 0;
            for (var kill = 0; kill < Kills; kill++)
            {
                if (kill % 2 == 1)
                {
                    // Aim at a digest send: wait (bounded) for the outgoing queue to hold one.
                    var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(3);
                    while (QueueLength(outgoingMeta) == 0 && DateTime.UtcNow < deadline)
                    {
                        await Task.Delay(1);
                    }
                }
                else
                {
                    // Anywhere: the clients are always in some command or in DATA.
                    await Task.Delay(random.Next(150, 1200));
                }
                if (QueueLength(outgoingMeta) > 0)
                {
                    killsDuringRelay++;
                }
                failmail.Signal(Signals.Kill);
                await failmail.WaitForExitAsync(Patience);
                await failmail.DisposeAsync();
                failmail = null;
                await Task.Delay(random.Next(0, 100));
                var failures = Interlocked.Read(ref state.Failures);
                if (failures > failuresBefore)
                {
                    killsHittingClients++;
                }
                failmail = await FailmailProcess.StartServingOnAsync(listener, run, args);
                pids.Add(failmail.Pid);
                failuresBefore = Interlocked.Read(ref state.Failures);
            }

            await Task.Delay(500);
            await stopSending.CancelAsync();
            await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(30));

            // Drain: let every batch be digested and relayed, then stop cleanly.
            await failmail.WaitUntilAsync(() => IncomingStore.Pending(Path.Combine(run, "store")) == 0 && QueueLength(outgoingMeta) == 0,
                TimeSpan.FromSeconds(30), "the incoming store and the outgoing queue to drain");
            failmail.Signal(Signals.Term);
            Assert.Equal(0, await failmail.WaitForExitAsync(TimeSpan.FromSeconds(20)));

            var seen = new Dictionary<int, int>();
            var digests = sink.Messages().Select(m => m.Message).ToList();
            var failed = Directory.Exists(Path.Combine(run, "failed", "new"))
                ? Directory.GetFiles(Path.Combine(run, "failed", "new")).Select(path => MimeMessage.Load(path)).ToList()
                : [];
            var totals = 0;
            foreach (var digest in digests.Concat(failed))
            {
                var text = digest.TextBody ?? "";
                var total = TotalLine().Match(text);
                if (!total.Success)
                {
                    continue; // a transaction cut off by a kill before its body reached the sink
                }
                totals += int.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture);
                foreach (Match m in SeqLine().Matches(text))
                {
                    var seq = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                    seen[seq] = seen.GetValueOrDefault(seq) + 1;
                }
            }

            var acked = state.Acked.Keys.ToHashSet();
            var lost = acked.Where(seq => !seen.ContainsKey(seq)).Order().ToList();
            var duplicated = seen.Where(kv => kv.Value > 1).ToList();
            var unackedDelivered = seen.Keys.Count(seq => !acked.Contains(seq));
            output.WriteLine($"kills: {Kills} ({killsDuringRelay} with a digest in the outgoing queue, {killsHittingClients} failing a client transaction)");
            output.WriteLine($"messages: {state.Attempted} attempted, {acked.Count} got 250, {state.Failures} client failures");
            output.WriteLine($"digests: {digests.Count} at smtp-sink, {failed.Count} in the fail-dir; distinct messages delivered {seen.Count}");
            output.WriteLine($"duplicates: {duplicated.Count} messages delivered more than once ({duplicated.Sum(kv => kv.Value - 1)} extra copies)");
            // Where the duplicates come from: a digest relayed again whole (the kill fell between
            // the relay's 250 and the queue removal), or messages batched again (the kill fell
            // between the digest's queue commit and their removal from the incoming store).
            var resent = digests.Count - digests.Select(d => d.MessageId).Distinct().Count();
            var rebatched = 0;
            var strayDuplicates = new List<int>();
            var delivered = new HashSet<int>();
            var ids = new HashSet<string>(StringComparer.Ordinal);
            var recent = new List<HashSet<int>>(); // the last few distinct digests, newest last
            foreach (var d in digests)
            {
                var seqs = SeqLine().Matches(d.TextBody ?? "").Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
                var again = !ids.Add(d.MessageId ?? "");
                if (!again)
                {
                    var old = seqs.Where(delivered.Contains).ToList();
                    if (old.Count > 0)
                    {
                        rebatched++;
                        // Only a digest that was in flight at a kill may come back: its messages
                        // are in one of the last digests delivered, never in older ones.
                        strayDuplicates.AddRange(old.Where(seq => !recent.Any(r => r.Contains(seq))));
                    }
                    recent.Add(seqs.ToHashSet());
                    if (recent.Count > RecentDigests)
                    {
                        recent.RemoveAt(0);
                    }
                }
                delivered.UnionWith(seqs);
                output.WriteLine($"  digest {d.MessageId} {d.Date:HH:mm:ss} {seqs.Count} messages {(seqs.Count > 0 ? seqs.Min() : 0)}..{(seqs.Count > 0 ? seqs.Max() : 0)}{(again ? " (again)" : "")}");
            }
            output.WriteLine($"duplicate digests: {resent} relayed again whole, {rebatched} holding messages batched again");
            output.WriteLine($"delivered without a 250 (in flight at a kill): {unackedDelivered}");
            output.WriteLine($"lost: {lost.Count}{(lost.Count > 0 ? " e.g. " + string.Join(", ", lost.Take(20)) : "")}");

            Assert.True(acked.Count > 200, $"too few messages acknowledged to mean anything: {acked.Count}");
            Assert.True(killsDuringRelay > 0, "no kill landed while a digest was queued for the relay");
            Assert.True(killsHittingClients > 0, "no kill interrupted a client transaction");
            // Every group is one message: the Total lines count exactly the subjects listed.
            Assert.Equal(totals, seen.Values.Sum());
            Assert.All(seen.Keys, seq => Assert.InRange(seq, 1, state.Attempted));
            Assert.Empty(lost);
            Assert.True(strayDuplicates.Count == 0, "messages delivered again long after their digest: " + string.Join(", ", strayDuplicates.Take(20)));
            Assert.Equal(0, IncomingStore.Pending(Path.Combine(run, "store")));
        }
        finally
        {
            await stopSending.CancelAsync();
            foreach (var pid in pids)
            {
                try
                {
                    Signals.Send(pid, Signals.Kill);
                }
                catch (InvalidOperationException)
                {
                    // Already gone, as it should be.
                }
            }
            if (failmail is not null)
            {
                await failmail.DisposeAsync();
            }
            if (sink is not null)
            {
                await sink.DisposeAsync();
            }
            Directory.Delete(dir, recursive: true);
        }
    }

    // One client session: sends numbered messages, records each 250, reconnects after any
    // failure (the message in flight then counts as unknown), until told to stop.
    private static async Task SendLoopAsync(int port, SendState state, CancellationToken stop)
    {
        SmtpClient? client = null;
        try
        {
            while (!stop.IsCancellationRequested && Volatile.Read(ref state.Attempted) < MaxMessages)
            {
                try
                {
                    if (client is null)
                    {
                        client = new SmtpClient { Timeout = 10_000 };
                        await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
                    }
                    var seq = Interlocked.Increment(ref state.Attempted);
                    var message = new MimeMessage();
                    message.From.Add(MailboxAddress.Parse("app@example.com"));
                    message.To.Add(MailboxAddress.Parse("ops@example.com"));
                    message.Subject = string.Create(CultureInfo.InvariantCulture, $"crash {seq}");
                    message.Headers.Add("X-Seq", seq.ToString(CultureInfo.InvariantCulture));
                    message.Body = new TextPart("plain") { Text = string.Create(CultureInfo.InvariantCulture, $"seq {seq}\n") };
                    await client.SendAsync(message).WaitAsync(Patience);
                    state.Acked[seq] = true;
                }
                catch (Exception e) when (e is IOException or MailKit.ProtocolException or MailKit.CommandException
                    or System.Net.Sockets.SocketException or TimeoutException or OperationCanceledException or InvalidOperationException)
                {
                    Interlocked.Increment(ref state.Failures);
                    client?.Dispose();
                    client = null;
                    try
                    {
                        await Task.Delay(20, stop);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
            if (client is not null)
            {
                try
                {
                    await client.DisconnectAsync(quit: true).WaitAsync(Patience);
                }
                catch (Exception e) when (e is IOException or MailKit.ProtocolException or MailKit.CommandException or TimeoutException)
                {
                    // QUIT is a courtesy; the messages are counted already.
                }
            }
        }
        finally
        {
            client?.Dispose();
        }
    }

    private static int QueueLength(string metaDir) =>
        Directory.Exists(metaDir) ? Directory.GetFiles(metaDir).Length : 0;

    private sealed class SendState
    {
        public int Attempted;
        public long Failures;
        public ConcurrentDictionary<int, bool> Acked { get; } = new();
    }

    [GeneratedRegex(@"Total messages: (\d+)")]
    private static partial Regex TotalLine();

    // A group shown in full, or one listed on one line past --max-digest-groups (issue 13).
    [GeneratedRegex("^(?:Subject: |- Message group \\d+ of \\d+: \\d+ instances?: )\"crash (\\d+)\"\r?$", RegexOptions.Multiline)]
    private static partial Regex SeqLine();
}
