using System.Diagnostics;
using System.Globalization;
using System.Text;
using Failmail;
using Failmail.Batching;
using Failmail.Maildir;
using Failmail.Relay;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;

// The sender half alone, in process: N messages shaped like smtp-source's (-l 1024) with S
// subjects are committed to a MemoryMessageStore, then handed to a BatcherService whose sender
// does what RelayService.SendAsync does before its queue commit (Prepare and serialise into
// a buffer sized as it sizes it). The
// CPU time (this process, user+system) runs from the first AcceptAsync to the end of the
// shutdown flush, so it covers reading, keys, batching, digest building and the hand-off.
//   dotnet run -c Release --project bench/batcher -- service [messages] [subjects] [runs]
internal static class ServiceBench
{
    public static async Task RunAsync(int messages, int subjects, int runs)
    {
        for (var run = 0; run < runs; run++)
        {
            var store = new MemoryMessageStore();
            var received = new List<ReceivedMessage>(messages);
            var body = new StringBuilder();
            for (var line = 1; body.Length < 1024; line++)
            {
                body.Append(CultureInfo.InvariantCulture, $"{line % 10}").Append('X', 77).Append("\r\n");
            }
            for (var i = 0; i < messages; i++)
            {
                var text = string.Create(CultureInfo.InvariantCulture,
                    $"From: <app@example.com>\r\nTo: <ops@example.com>\r\nDate: Sun, 22 Nov 2026 21:47:32 +0000 (UTC)\r\nMessage-Id: <{i:x4}.0003.0000@vm>\r\nSubject: bench alert {i % subjects}\r\n\r\n{body}");
                var draft = store.CreateDraft();
                await using (draft.ConfigureAwait(false))
                {
                    draft.Write(Encoding.ASCII.GetBytes(text));
                    received.Add(await draft.CommitAsync(new Envelope("app@example.com", ["ops@example.com"], DateTimeOffset.UtcNow, "127.0.0.1"), CancellationToken.None).ConfigureAwait(false));
                }
            }
            var sender = new SerialisingSender();
            var options = new FailmailOptions { WaitPeriod = TimeSpan.FromSeconds(2), MaxWait = TimeSpan.FromSeconds(10), Poll = TimeSpan.FromSeconds(1) };
            var service = new BatcherService(options, new AcceptedOnly(store), sender, NullLoggerFactory.Instance, TimeProvider.System);
            using var stop = new CancellationTokenSource();
            GC.Collect();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            var loop = service.RunAsync(stop.Token);
            foreach (var message in received)
            {
                await service.AcceptAsync(message, CancellationToken.None).ConfigureAwait(false);
            }
            await service.WaitIdleAsync().ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await loop.ConfigureAwait(false);
            watch.Stop();
            var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"service {messages} messages, {subjects} subjects: CPU {used.TotalSeconds:F2} s ({used.TotalMicroseconds / messages:F1} µs/message), wall {watch.Elapsed.TotalSeconds:F2} s, {sender.Digests} digests, {sender.Bytes / 1024} KiB, store left {store.LoadPending().Count}"));
        }
    }

    // In one process the batcher gets messages from the receiver through AcceptAsync; the
    // start-up listing would batch them all before the first AcceptAsync, so it is empty here.
    private sealed class AcceptedOnly(MemoryMessageStore store) : IMessageStore
    {
        public IMessageDraft CreateDraft() => store.CreateDraft();

        public IReadOnlyList<ReceivedMessage> LoadPending() => [];

        public Stream OpenRead(string id) => store.OpenRead(id);

        public void Remove(IEnumerable<string> ids) => store.Remove(ids);
    }

    private sealed class SerialisingSender : IDigestSender
    {
        public int Digests { get; private set; }

        public long Bytes { get; private set; }

        public async ValueTask SendAsync(Digest digest, CancellationToken cancellationToken)
        {
            digest.Message.Prepare(EncodingConstraint.SevenBit);
            using var buffer = new MemoryStream(RelayService.SerialisedSizeHint(digest.Message));
            await digest.Message.WriteToAsync(FormatOptions.Default, buffer, cancellationToken).ConfigureAwait(false);
            Digests++;
            Bytes += buffer.Length;
        }
    }
}
