using System.Text;
using Failmail.Maildir;
using Failmail.Rewriting;

namespace Failmail.Tests.Rewriting;

public sealed class AddressRewriterTests
{
    private static AddressRewriter Create(string aliases = "", string senderCanonical = "", string recipientCanonical = "",
        string senderStatic = "", string recipientStatic = "", CanonicalScope scope = CanonicalScope.Both,
        string masquerade = "", string forceFrom = "", string replyTo = "") =>
        new("host1.example.com",
            AliasTable.Parse("aliases", MapFileReader.ReadLogicalLines("aliases", aliases.Split('\n'))),
            CanonicalMap.Parse("sender", MapFileReader.ReadLogicalLines("sender", senderCanonical.Split('\n')), senderStatic),
            CanonicalMap.Parse("recipient", MapFileReader.ReadLogicalLines("recipient", recipientCanonical.Split('\n')), recipientStatic),
            scope, new Masquerade(masquerade), forceFrom, replyTo);

    private static string Headers(AddressRewriter rewriter, string section) =>
        rewriter.RewriteHeaders(Encoding.UTF8.GetBytes(section.ReplaceLineEndings("\r\n"))) is { } bytes
            ? Encoding.UTF8.GetString(bytes).ReplaceLineEndings("\n")
            : "(unchanged)";

    [Fact]
    public void TheOrderIsQualifyAliasesCanonicalMasquerade()
    {
        // Each step sees the previous one's output: the alias of "root" is a bare name that is
        // qualified, the canonical map matches the qualified form, masquerading comes last.
        var rewriter = Create(
            aliases: "root: sysadmin, dba",
            recipientCanonical: "sysadmin@host1.example.com jane@ops.example.com",
            masquerade: "example.com");
        Assert.Equal(["jane@example.com", "dba@example.com"], rewriter.RewriteRecipients(["root"]));
        // With the canonical entry on the unqualified name it still matches (local name form).
        var second = Create(aliases: "root: sysadmin", recipientCanonical: "sysadmin jane@ops.example.com");
        Assert.Equal(["jane@ops.example.com"], second.RewriteRecipients(["root@host1.example.com"]));
    }

    // Issue 16: --local-domains. root@localhost and root@web-3 are root, so they go through
    // the aliases; an unaliased local name ends up in --qualify-domain.
    [Fact]
    public void AddressesInLocalDomainsGoThroughTheAliases()
    {
        var rewriter = new AddressRewriter("host1.example.com",
            AliasTable.Parse("aliases", MapFileReader.ReadLogicalLines("aliases", ["root: ops@example.com"])),
            CanonicalMap.Parse("s", [], ""), CanonicalMap.Parse("r", [], ""), CanonicalScope.Both, new Masquerade(""), "", "",
            LocalDomains.Resolve("web-3", "host1.example.com"));
        Assert.Equal(["ops@example.com"], rewriter.RewriteRecipients(["root@localhost"]));
        Assert.Equal(["ops@example.com"], rewriter.RewriteRecipients(["root@WEB-3."]));
        Assert.Equal(["ops@example.com"], rewriter.RewriteRecipients(["root@host1.example.com"]));
        Assert.Equal(["backup@host1.example.com"], rewriter.RewriteRecipients(["backup@localhost"]));
        Assert.Equal(["root@web-4"], rewriter.RewriteRecipients(["root@web-4"]));
        Assert.True(rewriter.IsLocal("cron@web-3"));
        Assert.False(rewriter.IsLocal("cron@web-3.example.com"));
    }

    [Fact]
    public void DefaultLocalDomainsAreLocalhostAndThisHostsNames()
    {
        var host = Failmail.FailmailOptions.HostName();
        var domains = LocalDomains.Resolve("", "q.example");
        Assert.Contains("localhost", domains);
        Assert.Contains("q.example", domains);
        Assert.Contains(host.Split('.')[0], domains);
        Assert.Contains(HostDomain.Resolve(""), domains);
        Assert.Throws<ArgumentException>(() => LocalDomains.Resolve("a.example, root@b.example", "q.example"));
    }

    [Fact]
    public void AliasesApplyOnlyToLocalRecipients()
    {
        var rewriter = Create(aliases: "root: ops@example.com");
        Assert.Equal(["ops@example.com", "root@other.org"], rewriter.RewriteRecipients(["root@HOST1.example.com", "root@other.org"]));
    }

    [Fact]
    public void TheSenderIsQualifiedCanonicalisedMasqueradedThenForced()
    {
        Assert.Equal("cron@example.com",
            Create(senderCanonical: "root cron@host2.example.com", masquerade: "example.com").RewriteSender("root"));
        Assert.Equal("alerts@example.com", Create(forceFrom: "Alerts <alerts@example.com>").RewriteSender("root"));
        Assert.Equal("", Create(senderStatic: "x@example.com").RewriteSender(""));
    }

    [Fact]
    public void TheDigestSenderIsCanonicalisedAndMasqueradedButNeitherQualifiedNorForced()
    {
        var rewriter = Create(senderCanonical: "failmail@host1.example.com alerts@host1.example.com", masquerade: "example.com",
            forceFrom: "root@example.com");
        Assert.Equal("alerts@example.com", rewriter.RewriteDigestSender("failmail@host1.example.com", envelope: true));
        Assert.Equal("alerts@example.com", rewriter.RewriteDigestSender("failmail@host1.example.com", envelope: false));
        // A display name stays; an address no rule touches stays byte for byte.
        Assert.Equal("\"Fail Mail\" <alerts@example.com>", rewriter.RewriteDigestSender("Fail Mail <failmail@host1.example.com>", envelope: false));
        Assert.Equal("Ops <ops@other.org>", rewriter.RewriteDigestSender("Ops <ops@other.org>", envelope: false));
        Assert.Equal("failmail", Create(masquerade: "example.com").RewriteDigestSender("failmail", envelope: true));
        Assert.Equal("failmail@example.com", Create(masquerade: "example.com").RewriteDigestSender("failmail@web-3.example.com", envelope: true));
    }

    [Fact]
    public void TheDigestSendersCanonicalMapFollowsTheScope()
    {
        var envelopeOnly = Create(senderStatic: "alerts@example.com", scope: CanonicalScope.Envelope);
        Assert.Equal("alerts@example.com", envelopeOnly.RewriteDigestSender("failmail@host1.example.com", envelope: true));
        Assert.Equal("failmail@host1.example.com", envelopeOnly.RewriteDigestSender("failmail@host1.example.com", envelope: false));
        var headersOnly = Create(senderStatic: "alerts@example.com", scope: CanonicalScope.Headers);
        Assert.Equal("failmail@host1.example.com", headersOnly.RewriteDigestSender("failmail@host1.example.com", envelope: true));
        Assert.Equal("alerts@example.com", headersOnly.RewriteDigestSender("failmail@host1.example.com", envelope: false));
    }

    [Fact]
    public void ScopeEnvelopeLeavesHeadersAndScopeHeadersLeavesTheEnvelope()
    {
        var envelopeOnly = Create(senderStatic: "alerts@example.com", scope: CanonicalScope.Envelope);
        Assert.Equal("alerts@example.com", envelopeOnly.RewriteSender("root@host1.example.com"));
        Assert.Equal("(unchanged)", Headers(envelopeOnly, "From: root@host1.example.com\n"));

        var headersOnly = Create(senderStatic: "alerts@example.com", scope: CanonicalScope.Headers);
        Assert.Equal("root@host1.example.com", headersOnly.RewriteSender("root@host1.example.com"));
        Assert.Equal("From: alerts@example.com\n", Headers(headersOnly, "From: root@host1.example.com\n"));
    }

    [Fact]
    public void HeadersAreQualifiedCanonicalisedAndMasqueradedButNotAliased()
    {
        var rewriter = Create(aliases: "root: ops@example.com", recipientCanonical: "@host1.example.com @hosts.example.com",
            masquerade: "example.com");
        var result = Headers(rewriter, """
            Subject: cron <root@host1> /usr/bin/backup
            From: root (Cron Daemon)
            To: "Web" <www-data@host1.example.com>, root
            X-Other: root
            """ + "\n");
        Assert.Equal("""
            Subject: cron <root@host1> /usr/bin/backup
            From: Cron Daemon <root@example.com>
            To: Web <www-data@example.com>, root@example.com
            X-Other: root
            """ + "\n", result);
    }

    [Fact]
    public void ABareLocalNameBeforeAQuotedDisplayNameIsItsOwnAddress()
    {
        Assert.Equal("To: root@example.com, Web <www-data@example.com>\n",
            Headers(Create(masquerade: "example.com"), "To: root, \"Web\" <www-data@host1.example.com>\n"));
    }

    [Fact]
    public void UnaffectedHeadersKeepTheirExactBytes()
    {
        Assert.Equal("(unchanged)", Headers(Create(masquerade: "example.com"),
            "From: \"A\"   <a@example.com>\nTo: b@example.org,\n  c@example.org\nSubject: x\n"));
    }

    [Fact]
    public void FieldNamesMatchIgnoringCaseButOnlyWhenTheyAreExact()
    {
        var rewriter = Create(masquerade: "example.com");
        Assert.Equal("from: root@example.com\nSubject: root\nReply-To : root\nX-To: root\nbcc: root@example.com\n",
            Headers(rewriter, "from: root\nSubject: root\nReply-To : root\nX-To: root\nbcc: root\n"));
    }

    [Fact]
    public void ForceFromReplacesTheAddressKeepsTheNameAndAddsAMissingFrom()
    {
        var rewriter = Create(forceFrom: "alerts@example.com", replyTo: "ops@example.com");
        Assert.Equal("From: Cron Daemon <alerts@example.com>\nSubject: x\nReply-To: ops@example.com\n",
            Headers(rewriter, "From: Cron Daemon <root@host1.example.com>\nSubject: x\n"));
        Assert.Equal("Subject: x\nReply-To: keep@example.com\nFrom: alerts@example.com\n",
            Headers(rewriter, "Subject: x\nReply-To: keep@example.com\n"));
    }

    [Fact]
    public void BadSettingsAreStartUpErrors()
    {
        Assert.Throws<ArgumentException>(() => Create(forceFrom: "root"));
        Assert.Throws<ArgumentException>(() => Create(replyTo: "not an address"));
        var e = Assert.Throws<ArgumentException>(() => AddressRewriter.Create(new FailmailOptions { CanonicalScope = "all" }));
        Assert.StartsWith("--canonical-scope: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheWrappedDraftRewritesHeadersAcrossWritesAndKeepsTheBody()
    {
        var store = new MemoryMessageStore();
        var rewriter = Create(masquerade: "example.com");
        var text = "From: root\r\nTo: ops@host1.example.com\r\n\r\nFrom: root in the body\r\n"u8.ToArray();
        var draft = rewriter.Wrap(store.CreateDraft());
        ReceivedMessage message;
        await using (draft)
        {
            // One byte at a time: the blank line that ends the headers straddles writes.
            foreach (var b in text)
            {
                draft.Write([b]);
            }
            message = await draft.CommitAsync(new Envelope("a@example.com", ["b@example.com"], DateTimeOffset.UnixEpoch, "test"), CancellationToken.None).AsTask()
                .WaitAsync(TimeSpan.FromSeconds(10));
        }
        using var reader = new StreamReader(store.OpenRead(message.Id));
        Assert.Equal("From: root@example.com\r\nTo: ops@example.com\r\n\r\nFrom: root in the body\r\n", await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task AMessageWithoutABodyIsRewrittenAtCommit()
    {
        var store = new MemoryMessageStore();
        var draft = Create(replyTo: "ops@example.com").Wrap(store.CreateDraft());
        ReceivedMessage message;
        await using (draft)
        {
            draft.Write("Subject: only headers\r\n"u8);
            message = await draft.CommitAsync(new Envelope("", ["b@example.com"], DateTimeOffset.UnixEpoch, "test"), CancellationToken.None).AsTask()
                .WaitAsync(TimeSpan.FromSeconds(10));
        }
        using var reader = new StreamReader(store.OpenRead(message.Id));
        Assert.Equal("Subject: only headers\r\nReply-To: ops@example.com\r\n", await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(1000)]
    public async Task TheWrappedDraftGivesTheSameBytesForAnyWriteSize(int writeSize)
    {
        var cases = new[]
        {
            ("From: root\r\nTo: ops@host1.example.com\r\n\r\nFrom: root\r\n\r\nbody\r\n", "From: root@example.com\r\nTo: ops@example.com\r\n\r\nFrom: root\r\n\r\nbody\r\n"),
            ("\r\nFrom: root\r\n", "\r\nFrom: root\r\n"),
            ("From: root\r\n", "From: root@example.com\r\n"),
            ("", ""),
        };
        foreach (var (input, expected) in cases)
        {
            var store = new MemoryMessageStore();
            var draft = Create(masquerade: "example.com").Wrap(store.CreateDraft());
            ReceivedMessage message;
            await using (draft)
            {
                var bytes = Encoding.ASCII.GetBytes(input);
                for (var i = 0; i < bytes.Length; i += writeSize)
                {
                    draft.Write(bytes.AsSpan(i, Math.Min(writeSize, bytes.Length - i)));
                }
                message = await draft.CommitAsync(new Envelope("a@example.com", ["b@example.com"], DateTimeOffset.UnixEpoch, "test"), CancellationToken.None).AsTask()
                    .WaitAsync(TimeSpan.FromSeconds(10));
            }
            using var reader = new StreamReader(store.OpenRead(message.Id));
            Assert.Equal(expected, await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        }
    }
}
