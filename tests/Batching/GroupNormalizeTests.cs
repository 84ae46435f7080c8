using System.Text;
using Failmail.Batching;
using Failmail.Maildir;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;

namespace Failmail.Tests.Batching;

// --group-normalize through the key evaluator (both paths) and the batcher's per-group hosts
// and examples (issue 13).
public class GroupNormalizeTests
{
    private static readonly DateTimeOffset T0 = new(2014, 7, 1, 12, 0, 0, TimeSpan.Zero);

    private static ReceivedMessage Received(string id = "1", string clientName = "", string clientAddress = "", string from = "app@example.com") =>
        new(id, new Envelope(from, ["ops@example.com"], T0, clientAddress) { ClientName = clientName }, 0);

    [Fact]
    public void NormalizedKeysOnTheHeadAndTheMimePathAgree()
    {
        var bytes = Encoding.ASCII.GetBytes("Subject: disk 91% full on web-17\r\nFrom: a@example.com\r\n\r\nbody\r\n");
        var keys = new MessageKeyEvaluator(new FailmailOptions { GroupNormalize = true }, NullLogger.Instance);
        Assert.True(keys.TryFromHead(bytes, Received(), out var head));
        var full = keys.FromMime(MimeMessage.Load(new MemoryStream(bytes)), Received());
        foreach (var k in new[] { head, full })
        {
            Assert.Equal("disk <num>% full on web-<num>", k.GroupKey);
            Assert.Equal("disk <num>% full on web-<num>", k.Subject);
            Assert.Equal("91%/web-17", k.Example);
        }
    }

    [Fact]
    public void WithoutTheFlagKeysAreFailmails()
    {
        var bytes = Encoding.ASCII.GetBytes("Subject: disk 91% full on web-17\r\n\r\nbody\r\n");
        var keys = new MessageKeyEvaluator(new FailmailOptions(), NullLogger.Instance);
        Assert.True(keys.TryFromHead(bytes, Received(), out var head));
        Assert.Equal("disk 91% full on web-17", head.GroupKey);
        Assert.Equal("", head.Example);
    }

    [Theory]
    [InlineData("web-3.example.com", "10.0.0.3", "a@example.com", "web-3.example.com")]
    [InlineData("", "10.0.0.3", "a@example.com", "10.0.0.3")]
    [InlineData("", "", "cron@db-1.example.com", "db-1.example.com")]
    [InlineData("", "spool", "root", "unknown")]
    [InlineData("", "", "", "unknown")]
    public void SendingHostIsEhloThenAddressThenSenderDomain(string ehlo, string address, string from, string expected)
    {
        Assert.Equal(expected, SendingHost.Of(Received(clientName: ehlo, clientAddress: address, from: from).Envelope));
    }

    [Fact]
    public void AStormOfVariantsIsOneGroupWithHostsAndAFewExamples()
    {
        var batcher = new Batcher(waitPeriod: 10, maxWait: 1000);
        for (var i = 0; i < 214; i++)
        {
            var subject = $"disk {80 + i % 20}% full on web-{i % 40}";
            var normalized = SubjectNormalizer.Normalize(subject, out var example);
            batcher.Add(new BatchedMessage($"m{i}", "", normalized, normalized, ["ops@example.com"], T0.AddSeconds(i))
            {
                Host = $"web-{i % 40}",
                Example = example,
            }, i);
        }
        var group = Assert.Single(Assert.Single(batcher.Tick(1000)).Groups);
        Assert.Equal(214, group.Count);
        Assert.Equal("disk <num>% full on web-<num>", group.Subject);
        Assert.Equal(["80%/web-0", "81%/web-1", "82%/web-2"], group.Examples);
        Assert.Equal(32, group.Hosts.Count); // bounded; the rest summed
        Assert.Equal(214, group.Hosts.Sum(h => h.Count) + group.OtherHostMessages);
        Assert.Equal(new HostCount("web-0", 6), group.Hosts[0]);
        Assert.Equal(T0, group.First);
        Assert.Equal(T0.AddSeconds(213), group.Last);
    }
}
