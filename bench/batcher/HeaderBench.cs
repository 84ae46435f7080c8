using System.Diagnostics;
using System.Globalization;
using System.Text;
using Failmail.Batching;
using MimeKit;

// The batcher's header path (issue 12, "three header parsers"): for smtp-source-shaped
// 1 KB messages, what the keys need (Subject, X-Failmail-Split, the digest marker) through
// MessageHead (HeaderBlock, hand-written) against MimeKit's HeaderList.Load. Best of 5 runs
// of N messages; nanoseconds and bytes allocated per message.
internal static class HeaderBench
{
    public static void Run(int messages)
    {
        var body = new string('x', 900);
        var corpus = Enumerable.Range(0, 64).Select(i => Encoding.ASCII.GetBytes(
            $"Received: from client{i}.example.com (client{i}.example.com [10.0.0.{i}])\r\n\tby mx.example.com with ESMTP id {i:x8}\r\n" +
            $"From: app{i}@example.com\r\nTo: ops@example.com\r\nSubject: disk {i % 20} full on web-{i}\r\n" +
            $"Date: Fri, 04 Dec 2026 12:00:{i % 60:00} +0000\r\nMessage-ID: <{i}.bench@example.com>\r\nX-Failmail-Split: team-{i % 4}\r\n\r\n{body}\r\n")).ToArray();

        Measure("MessageHead (hand-written)", messages, corpus, static (bytes, spans) =>
        {
            if (!MessageHead.TryParse(bytes, spans, out var head))
            {
                throw new InvalidOperationException("bench message not plain");
            }
            return head.Subject().Length + (head.Get("X-Failmail-Split")?.Length ?? 0) + (head.Contains(DigestBuilder.MarkerHeader) ? 1 : 0);
        });
        Measure("MimeKit HeaderList.Load", messages, corpus, static (bytes, _) =>
        {
            using var stream = new MemoryStream(bytes, writable: false);
            var headers = HeaderList.Load(stream);
            return (headers["Subject"]?.Length ?? 0) + (headers["X-Failmail-Split"]?.Length ?? 0) + (headers.Contains(DigestBuilder.MarkerHeader) ? 1 : 0);
        });
    }

    private static void Measure(string name, int messages, byte[][] corpus, Func<byte[], List<HeaderSpan>, int> keys)
    {
        var spans = new List<HeaderSpan>();
        var check = 0L;
        double bestNs = double.MaxValue, bestBytes = 0;
        for (var run = 0; run < 5; run++)
        {
            GC.Collect();
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < messages; i++)
            {
                check += keys(corpus[i % corpus.Length], spans);
            }
            watch.Stop();
            var ns = watch.Elapsed.TotalNanoseconds / messages;
            if (ns < bestNs)
            {
                bestNs = ns;
                bestBytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)messages;
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-28} {bestNs,8:F0} ns/message {bestBytes,8:F0} B/message (check {check})"));
    }
}
