using MailKit.Net.Smtp;

namespace Failmail.Tests.EndToEnd;

// Digests say who they are from as any mail passing this host: the default --from is
// failmail@<FQDN>, and it goes through the sender canonical map and masquerading, in the
// From header and the envelope sender, through the AOT binary to smtp-sink.
[Trait("Category", "EndToEnd")]
public sealed class DigestSenderTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TheDefaultFromIsCanonicalisedAndMasqueradedInTheHeaderAndTheEnvelope()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            // The map's key is the default --from: it matches only if that is failmail@<FQDN>.
            var canonical = Path.Combine(dir, "sender_canonical");
            await File.WriteAllTextAsync(canonical, $"failmail@{FailmailOptions.FullyQualifiedHostName()}  alerts@web-3.ops.example.com\n");
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", sink.Address, "--bind-http", "", "--wait-period", "300ms", "--max-wait", "5s", "--poll", "200ms",
                "--sender-canonical", canonical, "--masquerade-domains", "ops.example.com");

            using (var client = new SmtpClient())
            {
                await client.ConnectAsync("127.0.0.1", failmail.SmtpPort, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
                await client.SendAsync(PipelineTests.Alert("disk full", "body", "ops@example.com")).WaitAsync(Patience);
                await client.DisconnectAsync(quit: true).WaitAsync(Patience);
            }
            await failmail.WaitUntilAsync(() => sink.Messages().Count >= 1, Patience, "the digest at smtp-sink");
            var digest = Assert.Single(sink.Messages());
            Assert.Equal("1", digest.Message.Headers["X-Failmail-Digest"]);
            Assert.Equal("alerts@ops.example.com", digest.MailFrom);
            Assert.Equal("alerts@ops.example.com", digest.Message.From.Mailboxes.Single().Address);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
