using System.Text;
using Failmail.Batching;
using MimeKit;

namespace Failmail.Tests.Batching;

// What issue 13 adds to a digest: hosts (--show-hosts), examples of a normalised subject,
// "still happening" on a follow-up, the template fields, the storm notice, and the relay's
// re-render reading all of it back.
public class DigestNotesTests
{
    private static readonly DateTimeOffset T = new(2014, 7, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = new(2014, 7, 3, 0, 0, 0, TimeSpan.Zero);
    private static readonly FailmailOptions Options = new() { From = "failmail@host.example" };

    private static DueGroup Disk(int count = 214, string id = "m1") =>
        new("disk <num>% full on web-<num>", "disk <num>% full on web-<num>", count, T, T.AddMinutes(3), id)
        {
            Hosts = [new HostCount("web-3", 120), new HostCount("web-7", 94), .. Enumerable.Range(0, 12).Select(i => new HostCount($"db-{i}", 1))],
            Examples = ["91%/web-17", "93%/web-4"],
        };

    private static DueBatch Batch(bool followUp = false, params DueGroup[] groups) =>
        new("db", "ops@example.com", groups, groups.SelectMany(g => Enumerable.Range(0, g.Count).Select(i => $"{g.LastMessageId}-{i}")).ToList(), T, T.AddMinutes(3))
        {
            FollowUp = followUp,
        };

    private static string BodyText(Digest digest) => Assert.IsType<TextPart>(digest.Message.Body).Text.ReplaceLineEndings("\n");

    private static DigestBuilder Builder(FailmailOptions options, DigestTemplate? template = null) => new(options, template, TimeZoneInfo.Utc);

    [Fact]
    public void HostsAreShownOnlyWithShowHosts()
    {
        var batch = Batch(false, Disk());
        var plain = BodyText(Builder(Options).BuildWithBodies(batch, _ => "body\n", Now));
        Assert.DoesNotContain("Hosts:", plain, StringComparison.Ordinal);
        var shown = BodyText(Builder(Options with { ShowHosts = true }).BuildWithBodies(batch, _ => "body\n", Now));
        Assert.Contains("  From Tue, 01 Jul 2014 12:00:00 +0000 to Tue, 01 Jul 2014 12:03:00 +0000\n  Hosts: web-3 (120), web-7 (94), db-0 (1), 11 more hosts\n  e.g. 91%/web-17, 93%/web-4\n\nSubject: \"disk <num>% full on web-<num>\"\nBody:\nbody\n", shown, StringComparison.Ordinal);
    }

    [Fact]
    public void HostsPastTheTrackedOnesAreSummed()
    {
        var group = Disk() with { Hosts = [new HostCount("web-3", 5)], OtherHostMessages = 40 };
        Assert.Equal("web-3 (5), others (40 messages)", GroupNotes.Hosts(group));
        Assert.Equal("web-3 (5), 12 more hosts", GroupNotes.Hosts(group with { OtherHosts = 12 }));
        Assert.Equal("web-3 (120), web-7 (94)", GroupNotes.Hosts(Disk() with { Hosts = [new HostCount("web-3", 120), new HostCount("web-7", 94)] }));
    }

    [Fact]
    public void AListedGroupCarriesItsExamplesOnItsLine()
    {
        var groups = new[] { Disk(300, "a") }.Concat(Enumerable.Range(0, 3).Select(i => Disk(214 - i, $"b{i}") with { Key = $"k{i}" })).ToArray();
        var text = BodyText(Builder(Options with { MaxDigestGroups = 1 }).BuildWithBodies(Batch(false, groups), _ => "body\n", Now));
        Assert.Contains("- Message group 2 of 4: 214 instances: \"disk <num>% full on web-<num>\", e.g. 91%/web-17, 93%/web-4\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AFollowUpSaysStillHappening()
    {
        var text = BodyText(Builder(Options).BuildWithBodies(Batch(true, Disk(1204)), _ => "body\n", Now));
        Assert.StartsWith("--- Failmail ---\nTotal messages: 1204\nUnique messages: 1\nOldest message: Tue, 01 Jul 2014 12:00:00 +0000\nNewest message: Tue, 01 Jul 2014 12:03:00 +0000\nStill happening: 1,204 more since the last digest\n\n- Message group 1 of 1: 1204 instances\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutTheNewFieldsTheLayoutIsFailmails()
    {
        var group = new DueGroup("disk full", "disk full", 2, T, T, "m");
        var text = BodyText(Builder(Options).BuildWithBodies(Batch(false, group), _ => "body\n", Now));
        Assert.Equal("--- Failmail ---\nTotal messages: 2\nUnique messages: 1\nOldest message: Tue, 01 Jul 2014 12:00:00 +0000\nNewest message: Tue, 01 Jul 2014 12:03:00 +0000\n\n- Message group 1 of 1: 2 instances\n  From Tue, 01 Jul 2014 12:00:00 +0000 to Tue, 01 Jul 2014 12:00:00 +0000\n\nSubject: \"disk full\"\nBody:\nbody\n", text);
    }

    [Fact]
    public void TheShrinkerReadsHostsExamplesAndStillHappeningBack()
    {
        var groups = Enumerable.Range(0, 40).Select(i => Disk(100 + i, $"g{i}") with { Key = $"k{i}" }).ToArray();
        var digest = Builder(Options with { ShowHosts = true }).BuildWithBodies(Batch(true, groups), _ => new string('x', 3000) + "\n", Now);
        var before = BodyText(digest);
        Assert.True(DigestShrinker.TryShrink(digest.Message, 20_000, 200, out var smaller));
        var after = smaller.TextBody!.ReplaceLineEndings("\n");
        Assert.Contains("Still happening: ", after, StringComparison.Ordinal);
        Assert.Contains("\n  Hosts: web-3 (120), web-7 (94), db-0 (1), 11 more hosts\n  e.g. 91%/web-17, 93%/web-4\n\nSubject: ", after, StringComparison.Ordinal);
        Assert.Equal(Counts(before), Counts(after));
    }

    // The instances of every group, whether shown, listed or summed.
    private static long Counts(string text)
    {
        long total = 0;
        foreach (var line in text.Split('\n'))
        {
            var m = System.Text.RegularExpressions.Regex.Match(line, @"^- Message group \d+ of \d+: (\d+) instances?");
            if (m.Success)
            {
                total += long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
            var more = System.Text.RegularExpressions.Regex.Match(line, @"^and \d+ more groups? \((\d+) messages?\)$");
            if (more.Success)
            {
                total += long.Parse(more.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return total;
    }

    [Fact]
    public void TheTemplateGetsHostsExamplesFollowUpAndOverflow()
    {
        var template = DigestTemplate.FromSource("t.liquid",
            "{{ still_happening }}|{% for g in groups %}{{ g.subject }}: {{ g.count }} e.g. {{ g.examples | join: \", \" }}; hosts {% for h in g.hosts limit: 2 %}{{ h.name }}={{ h.count }} {% endfor %}({{ g.hosts_text }}) {{ g.first }}..{{ g.last }}{% endfor %}|{% for o in overflow %}{{ o.count }}:{{ o.examples_text }};{% endfor %}{{ more_groups }}");
        var groups = new[] { Disk(300, "a"), Disk(5, "b") with { Key = "other", Examples = ["1/2"] } };
        var text = Builder(Options with { MaxDigestGroups = 1 }, template).BuildWithBodies(Batch(true, groups), _ => "body\n", Now);
        Assert.Equal(
            "still happening: 305 more since the last digest|disk <num>% full on web-<num>: 300 e.g. 91%/web-17, 93%/web-4; hosts web-3=120 web-7=94 (web-3 (120), web-7 (94), db-0 (1), 11 more hosts) Tue, 01 Jul 2014 12:00:00 +0000..Tue, 01 Jul 2014 12:03:00 +0000|5:1/2;1",
            BodyText(text));
    }

    // The Message-ID is hashed id by id now (no 600 KB string per storm digest): the same
    // value as the hash of the joined text it was before.
    [Fact]
    public void MessageIdIsTheHashOfTheJoinedBatchAsBefore()
    {
        var batch = Batch(false, Disk(3000, "é-id"));
        var digest = Builder(Options).BuildWithBodies(batch, _ => "body\n", Now);
        var joined = new StringBuilder().Append(batch.BatchKey).Append('\0').Append(batch.Recipient).Append('\0')
            .Append(Now.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var id in batch.MessageIds)
        {
            joined.Append('\0').Append(id);
        }
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(joined.ToString()));
        Assert.Equal($"failmail.{Convert.ToHexStringLower(hash, 0, 12)}@host.example", digest.Message.MessageId);
    }

    [Fact]
    public void TheStormNoticeIsShortAndMarked()
    {
        var page = Builder(Options with { SubjectPrefix = "[failmail]" }).Page(new StormPage("db", 1204), "pager@example.com", TimeSpan.FromSeconds(60), Now);
        Assert.Equal("[failmail] storm: 1,204 messages for [db] in 60 s, digest follows", page.Message.Subject);
        Assert.Equal("pager@example.com", page.Recipient);
        Assert.Empty(page.MessageIds);
        Assert.True(DigestBuilder.IsDigest(page.Message));
        Assert.Equal(new StormPage("db", 1204), page.Page);
        Assert.Equal("storm: 1,204 messages for [db] in 60 s, digest follows\n", page.Message.TextBody!.ReplaceLineEndings("\n"));
        var noKey = Builder(Options).Page(new StormPage("", 11), "p@example.com", TimeSpan.FromSeconds(2.5), Now);
        Assert.Equal("[failmail] storm: 11 messages in 2.5 s, digest follows", noKey.Message.Subject);
    }
}
