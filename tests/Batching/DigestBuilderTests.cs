using System.Text;
using Failmail.Batching;
using MimeKit;

namespace Failmail.Tests.Batching;

public class DigestBuilderTests
{
    private static readonly TimeSpan Edt = TimeSpan.FromHours(-4);
    private static readonly DateTimeOffset July1 = new(2014, 7, 1, 12, 34, 56, Edt);
    private static readonly DateTimeOffset Now = new(2014, 7, 3, 0, 0, 0, TimeSpan.Zero);
    private static readonly FailmailOptions Options = new() { From = "failmail@host.example" };

    private static MimeMessage Parse(string raw)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(raw.ReplaceLineEndings("\r\n")));
        return MimeMessage.Load(stream);
    }

    private static DueGroup Group(string subject, int count, DateTimeOffset first, DateTimeOffset last, string lastId, string? key = null) =>
        new(key ?? subject, subject, count, first, last, lastId);

    private static DueBatch Batch(params DueGroup[] groups) =>
        new("", "ops@example.com", groups, groups.SelectMany(g => Enumerable.Range(0, g.Count).Select(i => i == g.Count - 1 ? g.LastMessageId : $"{g.LastMessageId}-{i}")).ToList(),
            groups.Min(g => g.First), groups.Max(g => g.Last));

    private static string BodyText(Digest digest) => Assert.IsType<TextPart>(digest.Message.Body).Text.ReplaceLineEndings("\r\n");

    private static DigestBuilder Builder(DigestTemplate? template = null) => new(Options, template, TimeZoneInfo.Utc);

    [Theory]
    [InlineData(1, "[failmail] 1 instance: disk full")]
    [InlineData(7, "[failmail] 7 instances: disk full")]
    public void SubjectForOneGroup(int count, string expected)
    {
        Assert.Equal(expected, DigestBuilder.Subject("[failmail]", Batch(Group("disk full", count, July1, July1, "a"))));
    }

    [Fact]
    public void SubjectForSeveralGroupsAndPrefixes()
    {
        var batch = Batch(Group("disk full", 3, July1, July1, "a"), Group("cpu", 2, July1, July1, "b"));
        Assert.Equal("[failmail] 5 instances of 2 messages", DigestBuilder.Subject("[failmail]", batch));
        Assert.Equal("[customPrefix] 5 instances of 2 messages", DigestBuilder.Subject("[customPrefix]", batch));
        Assert.Equal("5 instances of 2 messages", DigestBuilder.Subject("", batch));
    }

    [Fact]
    public void AHugeGroupSubjectIsCutInTheDigestSubjectBodyAndTemplate()
    {
        var huge = "disk full " + new string('x', 1_000_000);
        var batch = Batch(Group(huge, 1, July1, July1, "a"));
        var digest = Builder().BuildWithBodies(batch, _ => "b", Now);
        var subject = digest.Message.Subject ?? "";
        Assert.StartsWith("[failmail] 1 instance: disk full xxx", subject, StringComparison.Ordinal);
        Assert.EndsWith(HeaderText.CutMarker, subject, StringComparison.Ordinal);
        Assert.True(Encoding.UTF8.GetByteCount(subject) <= HeaderText.MaxBytes);
        var line = BodyText(digest).Split("\r\n").Single(l => l.StartsWith("Subject: ", StringComparison.Ordinal));
        Assert.True(line.Length < HeaderText.MaxBytes + 20, $"{line.Length} characters");
        Assert.EndsWith(HeaderText.CutMarker + "\"", line, StringComparison.Ordinal);
        // The whole digest stays small (it was 2 MB per recipient).
        using var serialised = new MemoryStream();
        digest.Message.WriteTo(serialised);
        Assert.True(serialised.Length < 16 * 1024, $"{serialised.Length} bytes");

        var template = DigestTemplate.FromSource("t", "{{ subject }}|{% for g in groups %}{{ g.subject }}|{{ g.key }}{% endfor %}");
        var rendered = BodyText(Builder(template).BuildWithBodies(batch, _ => "b", Now));
        Assert.All(rendered.Split('|'), part => Assert.True(Encoding.UTF8.GetByteCount(part) <= HeaderText.MaxBytes + 2, $"{part.Length}"));
    }

    [Fact]
    public void ReplyToFlagGivesDigestsAReplyTo()
    {
        var batch = Batch(Group("disk full", 1, July1, July1, "a"));
        var plain = Builder().BuildWithBodies(batch, _ => "b", Now);
        Assert.Null(plain.Message.Headers[HeaderId.ReplyTo]);

        var withReplyTo = new DigestBuilder(Options with { ReplyTo = "Ops <ops@example.com>" }, null, TimeZoneInfo.Utc).BuildWithBodies(batch, _ => "b", Now);
        var replyTo = Assert.Single(withReplyTo.Message.ReplyTo.Mailboxes);
        Assert.Equal(("Ops", "ops@example.com"), (replyTo.Name, replyTo.Address));
        Assert.Equal("failmail@host.example", withReplyTo.Message.From.ToString());
    }

    [Fact]
    public void PluralIsRight()
    {
        Assert.Equal("0 messages", DigestBuilder.Plural(0, "message"));
        Assert.Equal("1 message", DigestBuilder.Plural(1, "message"));
        Assert.Equal("11 messages", DigestBuilder.Plural(11, "message"));
    }

    [Fact]
    public void DefaultBodyLayoutAsFailmailWithReceiveTimes()
    {
        var messages = new Dictionary<string, MimeMessage>
        {
            ["m2"] = Parse("Subject: disk full\n\nbody 2\n"),
        };
        var batch = Batch(Group("disk full", 2, July1, July1.AddDays(1), "m2"));
        var digest = Builder().Build(batch, id => messages.GetValueOrDefault(id), Now);
        var expected =
            "--- Failmail ---\r\n" +
            "Total messages: 2\r\n" +
            "Unique messages: 1\r\n" +
            "Oldest message: Tue, 01 Jul 2014 16:34:56 +0000\r\n" +
            "Newest message: Wed, 02 Jul 2014 16:34:56 +0000\r\n" +
            "\r\n" +
            "- Message group 1 of 1: 2 instances\r\n" +
            "  From Tue, 01 Jul 2014 16:34:56 +0000 to Wed, 02 Jul 2014 16:34:56 +0000\r\n" +
            "\r\n" +
            "Subject: \"disk full\"\r\n" +
            "Body:\r\n" +
            "body 2\r\n";
        Assert.Equal(expected, BodyText(digest));
        Assert.Equal("[failmail] 2 instances: disk full", digest.Message.Subject);
    }

    [Fact]
    public void TimesKeepTheZoneTheBuilderIsGiven()
    {
        var zone = TimeZoneInfo.CreateCustomTimeZone("edt", Edt, "edt", "edt");
        var batch = Batch(Group("x", 1, July1, July1, "m"));
        var text = BodyText(new DigestBuilder(Options, null, zone).Build(batch, _ => null, Now));
        Assert.Contains("Oldest message: Tue, 01 Jul 2014 12:34:56 -0400\r\n", text, StringComparison.Ordinal);
        Assert.Contains("- Message group 1 of 1: 1 instance\r\n", text, StringComparison.Ordinal);
        Assert.Contains(DigestBuilder.NoLongerStored, text, StringComparison.Ordinal);
    }

    [Fact]
    public void HeadersAreCompleteAndMarkTheDigest()
    {
        var batch = Batch(Group("disk full", 1, July1, July1, "m"));
        var message = Builder().Build(batch, _ => Parse("Subject: disk full\n\nx\n"), Now).Message;
        Assert.Equal("failmail@host.example", ((MailboxAddress)message.From[0]).Address);
        Assert.Equal("ops@example.com", ((MailboxAddress)message.To[0]).Address);
        Assert.Equal(Now, message.Date);
        Assert.EndsWith("@host.example", message.MessageId, StringComparison.Ordinal);
        Assert.True(DigestBuilder.IsDigest(message));
        Assert.Equal("1", message.Headers[DigestBuilder.MarkerHeader]);
        using var stream = new MemoryStream();
        message.WriteTo(new FormatOptions { NewLineFormat = NewLineFormat.Dos }, stream);
        var wire = Encoding.ASCII.GetString(stream.ToArray());
        Assert.Contains("MIME-Version: 1.0\r\n", wire, StringComparison.Ordinal);
        Assert.Contains("Content-Type: text/plain; charset=utf-8\r\n", wire, StringComparison.Ordinal);
        Assert.Contains("X-Failmail-Digest: 1\r\n", wire, StringComparison.Ordinal);
        Assert.Contains("Date: Thu, 03 Jul 2014 00:00:00 +0000\r\n", wire, StringComparison.Ordinal);
        Assert.DoesNotContain("0001", wire, StringComparison.Ordinal);
    }

    [Fact]
    public void GroupsAreShownInTheBatchOrderWithTheirOwnCounts()
    {
        var batch = Batch(Group("b", 3, July1, July1, "mb"), Group("a", 1, July1, July1, "ma"));
        var text = BodyText(Builder().Build(batch, id => Parse($"Subject: x\n\nbody of {id}\n"), Now));
        var first = text.IndexOf("- Message group 1 of 2: 3 instances", StringComparison.Ordinal);
        var second = text.IndexOf("- Message group 2 of 2: 1 instance\r\n", StringComparison.Ordinal);
        Assert.True(first >= 0 && second > first);
        Assert.True(text.IndexOf("body of mb", StringComparison.Ordinal) < text.IndexOf("body of ma", StringComparison.Ordinal));
    }

    [Fact]
    public void SubjectIsGoQuoted()
    {
        var batch = Batch(Group("say \"hi\"\\ \u0001 café", 1, July1, July1, "m"));
        var text = BodyText(Builder().Build(batch, _ => null, Now));
        Assert.Contains("Subject: \"say \\\"hi\\\"\\\\ \\x01 café\"\r\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void MimeBodiesAreDecodedToText()
    {
        var multipart = Parse(
            "Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b\n\n" +
            "--b\nContent-Type: text/html\n\n<p>html</p>\n--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" +
            Convert.ToBase64String(Encoding.UTF8.GetBytes("plain café\n")) + "\n--b--\n");
        Assert.Equal("plain café\n", MessageText.Body(multipart));
        var html = Parse("Subject: x\nContent-Type: text/html\n\n<html><style>p{}</style><p>disk &amp; cpu</p><br>next</html>\n");
        Assert.Equal("disk & cpu\n\nnext", MessageText.Body(html));
        var image = Parse("Subject: x\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\naGVsbG8=\n");
        Assert.Equal(MessageText.NoTextBody, MessageText.Body(image));
    }

    [Fact]
    public void LargeBodiesAreCutWithANote()
    {
        var message = Parse("Subject: x\n\n" + new string('a', 100_000) + "\n");
        var body = MessageText.Body(message);
        Assert.StartsWith(new string('a', MessageText.MaxBodyChars), body, StringComparison.Ordinal);
        Assert.Contains("[body truncated: ", body, StringComparison.Ordinal);
        Assert.True(body.Length < MessageText.MaxBodyChars + 100);
    }

    [Fact]
    public void BrokenMessagesStillMakeADigest()
    {
        var raw = Encoding.Latin1.GetBytes("Subject: caf\u00e9 \u00ff\r\nContent-Type: text/plain; charset=x-unknown\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64\r\n");
        var broken = MimeMessage.Load(new MemoryStream(raw));
        var noSubject = Parse("X-Other: 1\n\nplain\n");
        var batch = Batch(Group(MessageText.Subject(broken), 1, July1, July1, "b"), Group(MessageText.Subject(noSubject), 1, July1, July1, "n"));
        var digest = Builder().Build(batch, id => id == "b" ? broken : noSubject, Now);
        var text = BodyText(digest);
        Assert.Contains("Subject: \"\"\r\nBody:\r\nplain\r\n", text, StringComparison.Ordinal);
        Assert.Equal("[failmail] 2 instances of 2 messages", digest.Message.Subject);
    }

    [Fact]
    public void TemplateReplacesTheBody()
    {
        var template = DigestTemplate.FromSource("t.liquid",
            "{{ total_messages }}/{{ unique_messages }} for {{ recipient }}\n{% for g in groups %}{{ g.count }} instances of {{ g.subject }} [{{ g.body | strip }}] {{ g.subject | replace: \"^d\\w+\", \"D\" }}\n{% endfor %}");
        var batch = Batch(Group("disk full", 2, July1, July1, "m"));
        var digest = Builder(template).Build(batch, _ => Parse("Subject: disk full\n\nthe body\n"), Now);
        Assert.Equal("2/1 for ops@example.com\r\n2 instances of disk full [the body] D full\r\n", BodyText(digest));
        Assert.Equal("[failmail] 2 instances: disk full", digest.Message.Subject);
    }

    [Fact]
    public void TemplateThatFailsToRenderFallsBackToTheDefaultBody()
    {
        var template = DigestTemplate.FromSource("t.liquid", "{% for g in groups %}{{ g.subject | match: g.key }}{% endfor %}");
        var batch = Batch(Group("disk full", 1, July1, July1, "m", key: "("));
        var text = BodyText(Builder(template).Build(batch, _ => null, Now));
        Assert.StartsWith("--- Failmail ---\r\n", text, StringComparison.Ordinal);
        Assert.Contains("Error rendering --template t.liquid: ", text, StringComparison.Ordinal);
    }

    [Fact]
    public void BrokenTemplateIsAStartupErrorNamingFlagAndFile()
    {
        var e = Assert.Throws<ExpressionException>(() => DigestTemplate.FromSource("/etc/x.liquid", "{% for g in groups %}"));
        Assert.StartsWith("--template: /etc/x.liquid: ", e.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<ExpressionException>(() => DigestTemplate.Load("/nonexistent/x.liquid"));
        Assert.StartsWith("--template: cannot read /nonexistent/x.liquid", missing.Message, StringComparison.Ordinal);
    }

    // The default body is written straight to UTF-8 with CRLF: the content must be the bytes
    // TextPart.SetText(UTF8, DefaultBody(...).ReplaceLineEndings("\r\n")) gave.
    [Fact]
    public void DigestContentIsTheDefaultBodyAsUtf8WithCrlf()
    {
        var batch = Batch(
            Group("disk full \u2713 \ud83d\ude00", 3, July1, July1.AddMinutes(5), "a"),
            Group("tab\tand \"quotes\" and \u0085 NEL", 2, July1, July1, "b"),
            Group("", 1, July1, July1, "c"));
        var bodies = new Dictionary<string, string>
        {
            ["a"] = "line 1\nline 2 caf\u00e9\n",
            ["b"] = "no final newline \ud83d",
            ["c"] = string.Concat(Enumerable.Repeat("0123456789 \u2713\n", 2000)),
        };
        var builder = Builder();
        var digest = builder.BuildWithBodies(batch, id => bodies[id], Now);
        var part = Assert.IsType<TextPart>(digest.Message.Body);
        using var content = new MemoryStream();
        Assert.NotNull(part.Content);
        part.Content.DecodeTo(content);
        var expected = Encoding.UTF8.GetBytes(builder.DefaultBody(batch, batch.Groups.Select(g => bodies[g.LastMessageId]).ToList()).ReplaceLineEndings("\r\n"));
        Assert.Equal(expected, content.ToArray());
        Assert.Equal("utf-8", part.ContentType.Charset);

        var reference = new TextPart(MimeKit.Text.TextFormat.Plain);
        reference.SetText(Encoding.UTF8, Encoding.UTF8.GetString(expected));
        Assert.Equal(reference.GetBestEncoding(EncodingConstraint.SevenBit), part.ContentTransferEncoding);
        Assert.Equal(reference.ContentType.ToString(), part.ContentType.ToString());
    }
    // Issue 13: a digest is bounded by --max-digest-groups and --max-digest-size.
    private static DigestBuilder Limited(long maxBytes, int maxGroups) =>
        new(Options, null, TimeZoneInfo.Utc, new DigestLimits(maxBytes, maxGroups));

    private static DueBatch ManyGroups(int groups, Func<int, int> count) =>
        Batch(Enumerable.Range(0, groups).Select(i => Group($"alert {i}", count(i), July1, July1, $"m{i}")).OrderByDescending(g => g.Count).ToArray());

    [Fact]
    public void GroupsPastMaxDigestGroupsAreListedOneLineEachInCountOrder()
    {
        var batch = ManyGroups(5, i => 5 - i);
        var body = BodyText(Limited(1024 * 1024, 2).BuildWithBodies(batch, id => $"body of {id}\n", Now));
        Assert.Contains("- Message group 1 of 5: 5 instances\r\n", body, StringComparison.Ordinal);
        Assert.Contains("- Message group 2 of 5: 4 instances\r\n", body, StringComparison.Ordinal);
        Assert.Contains("Body:\r\nbody of m1\r\n", body, StringComparison.Ordinal);
        Assert.DoesNotContain("body of m2", body, StringComparison.Ordinal);
        Assert.EndsWith(
            "body of m1\r\n\r\n" +
            "- Message group 3 of 5: 3 instances: \"alert 2\"\r\n" +
            "- Message group 4 of 5: 2 instances: \"alert 3\"\r\n" +
            "- Message group 5 of 5: 1 instance: \"alert 4\"\r\n", body, StringComparison.Ordinal);
        Assert.DoesNotContain("more groups", body, StringComparison.Ordinal);
    }

    [Fact]
    public void GroupsPastTheSizeAreSummedOnOneLineWithExactCounts()
    {
        // 1,000 groups of 1 to 1,000 messages: 500,500 in all.
        var batch = ManyGroups(1000, i => 1000 - i);
        var digest = Limited(8192, 3).BuildWithBodies(batch, id => new string('x', 2000) + "\n", Now);
        var size = DigestBuilder.SerialisedSize(digest.Message);
        Assert.True(size <= 8192, $"{size} bytes");
        var body = BodyText(digest);
        Assert.Equal(3, body.Split("\r\nBody:\r\n").Length - 1);
        var listed = System.Text.RegularExpressions.Regex.Matches(body, @"^- Message group (\d+) of 1000: (\d+) instances?", System.Text.RegularExpressions.RegexOptions.Multiline);
        var more = System.Text.RegularExpressions.Regex.Match(body, @"\r\nand (\d+) more groups \((\d+) messages\)\r\n$");
        Assert.True(more.Success, body[^200..]);
        Assert.Equal(1000, listed.Count + int.Parse(more.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(500_500, listed.Sum(m => int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture))
            + long.Parse(more.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(Enumerable.Range(1, listed.Count).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)), listed.Select(m => m.Groups[1].Value));
        Assert.Contains("Total messages: 500500\r\nUnique messages: 1000\r\n", body, StringComparison.Ordinal);
    }

    [Fact]
    public void LongBodiesAreCutWithAMarker()
    {
        var batch = Batch(Group("disk full", 2, July1, July1, "a"), Group("cpu", 1, July1, July1, "b"));
        var digest = Limited(16 * 1024, 200).BuildWithBodies(batch, id => new string(id[0], 50_000) + "\n", Now);
        Assert.True(DigestBuilder.SerialisedSize(digest.Message) <= 16 * 1024);
        var body = BodyText(digest);
        Assert.Matches(@"Body:\r\na{256,}\r\n\[body cut: \d+ more bytes\]\r\n", body);
        Assert.Matches(@"Body:\r\nb{256,}\r\n\[body cut: \d+ more bytes\]\r\n", body);
        Assert.DoesNotContain("more group", body, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEightBitDigestStaysWithinTheSizeOnceEncoded()
    {
        var batch = ManyGroups(300, i => 300 - i);
        var digest = Limited(200_000, 200).BuildWithBodies(batch, id => string.Concat(Enumerable.Repeat("Festplatte voll – été 💾\n", 800)), Now);
        var size = DigestBuilder.SerialisedSize(digest.Message);
        Assert.True(size <= 200_000, $"{size} bytes");
        Assert.True(size > 100_000, $"{size} bytes: the budget should be used");
        Assert.Contains("[body cut: ", BodyText(digest), StringComparison.Ordinal);
    }

    [Fact]
    public void TheRelaysAdvertisedSizeBoundsTheDigestWhenSmaller()
    {
        var limits = new DigestLimits(2 * 1024 * 1024, 200);
        limits.ObserveRelayLimit(50_000);
        Assert.Equal(50_000, limits.EffectiveMaxBytes);
        var batch = ManyGroups(100, i => 100 - i);
        var digest = new DigestBuilder(Options, null, TimeZoneInfo.Utc, limits).BuildWithBodies(batch, id => new string('z', 5000) + "\n", Now);
        Assert.True(DigestBuilder.SerialisedSize(digest.Message) <= 50_000);
        limits.ObserveRelayLimit(0);
        Assert.Equal(2 * 1024 * 1024, limits.EffectiveMaxBytes);
    }
}
