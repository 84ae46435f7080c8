using System.Text;
using Failmail.Addresses;
using Failmail.Batching;
using Failmail.Smtp;
using MimeKit;

namespace Failmail.Tests.Addresses;

public class EnvelopeMailboxTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("a..b@y.test", "\"a..b\"@y.test")]
    [InlineData(".a@y.test", "\".a\"@y.test")]
    [InlineData("a.@y.test", "\"a.\"@y.test")]
    [InlineData("ops@y.test", "ops@y.test")]
    [InlineData("\"a b\"@y.test", "\"a b\"@y.test")]
    [InlineData("\"a\\\"b\"@y.test", "\"a\\\"b\"@y.test")]
    [InlineData("a@::1", "\"a\"@[IPv6:::1]")]
    [InlineData("a@[IPv6:::1]", "a@[IPv6:::1]")]
    [InlineData("postmaster", "postmaster")]
    [InlineData("", "")]
    public void CarriesWhatRealMailUsesAndQuotesWhatMimeKitRefuses(string address, string expected)
    {
        Assert.True(EnvelopeMailbox.TryCreate(address, out var mailbox));
        Assert.Equal(expected, mailbox.Address);
    }

    [Theory]
    [InlineData("\"a\rb\"@y.test")]
    [InlineData("a\r\n@y.test")]
    [InlineData("a@y.test\n")]
    [InlineData("a\0b@y.test")]
    public void RefusesControlCharacters(string address)
    {
        Assert.False(EnvelopeMailbox.TryCreate(address, out _));
        Assert.Throws<FormatException>(() => EnvelopeMailbox.Create(address));
    }

    [Theory]
    [InlineData("<\"a\\\rb\"@y.test>")]
    [InlineData("<\"a\rb\"@y.test>")]
    [InlineData("<\"a\\\tb\"@y.test>")]
    public void TheSmtpParserRefusesAQuotedLocalPartHoldingAControlCharacter(string path)
    {
        Assert.False(SmtpAddressParser.TryParsePath(Encoding.UTF8.GetBytes(path), allowNull: false, out _, out _));
    }

    // The property the receiver's 250 rests on: every address the SMTP parser accepts goes
    // through the batcher's normalisation, the digest builder (headers written and parsed
    // back) and the relay envelope without an exception.
    [Fact]
    public void EveryAddressTheSmtpParserAcceptsCanBeDigestedAndRelayed()
    {
        var accepted = AcceptedAddresses(seed: 5321, candidates: 30_000);
        Assert.True(accepted.Count > 3_000, $"only {accepted.Count} generated addresses were accepted: the generator is too narrow");
        var builder = new DigestBuilder(new FailmailOptions { From = "failmail@host.example" }, null, TimeZoneInfo.Utc);
        foreach (var address in accepted)
        {
            Assert.True(EnvelopeMailbox.TryCreate(address, out _), $"cannot carry <{EnvelopeMailbox.Printable(address)}>");
            var recipient = RecipientAddress.Normalize(address);
            Assert.True(EnvelopeMailbox.TryCreate(recipient, out var envelope), $"cannot carry normalised <{EnvelopeMailbox.Printable(recipient)}>");
            var group = new DueGroup("k", "disk full", 1, Now, Now, "m1");
            var digest = builder.BuildWithBodies(new DueBatch("", recipient, [group], ["m1"], Now, Now), _ => "body", Now);
            using var bytes = new MemoryStream();
            digest.Message.WriteTo(FormatOptions.Default, bytes);
            bytes.Position = 0;
            var back = MimeMessage.Load(bytes);
            var to = Assert.Single(back.To.Mailboxes);
            Assert.Equal(envelope.Address, to.Address);
        }
    }

    [Fact]
    public async Task AcceptedAddressesReachARealRelayAsEnvelopeRecipientsItAccepts()
    {
        var accepted = AcceptedAddresses(seed: 4954, candidates: 6_000).Where(a => a.Length > 0).Distinct().Take(60).ToList();
        Assert.True(accepted.Count >= 40);
        await using var server = new Failmail.Tests.Relay.TestSmtpServer();
        var options = new FailmailOptions { RelayAddr = server.Address, From = "failmail@host.example" };
        await using var transport = new Failmail.Relay.SmtpRelayTransport(options, TimeProvider.System);
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("", "failmail@host.example"));
        message.To.Add(new MailboxAddress("", "ops@y.test"));
        message.Subject = "digest";
        message.Body = new TextPart("plain") { Text = "x" };
        await transport.SendAsync(message, "a..b@host.example", accepted, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        var mail = await server.ReceiveAsync();
        Assert.Equal(accepted.Count, mail.Recipients.Count);
        foreach (var path in mail.Recipients.Append(mail.From))
        {
            var wire = Encoding.UTF8.GetBytes(path.StartsWith('<') ? path : "<" + path + ">");
            Assert.True(SmtpAddressParser.TryParsePath(wire, allowNull: false, out _, out _), $"the relay was sent {path}, which our own parser refuses");
        }
    }

    // Seeded random paths built from the pieces that trip parsers: dots in every place,
    // quotes and escapes, control characters, UTF-8, literals and bare IP addresses.
    internal static List<string> AcceptedAddresses(int seed, int candidates)
    {
        string[] localPieces = ["a", "b", "Z", "0", ".", "..", "-", "+", "'", "{", "}", "~", "!", "#", "$", "%", "&", "*", "/", "=", "?", "^", "_", "`", "|",
            "δ", "ü", "日本", " ", "\\", "\"", "(", ")", ",", ";", ":", "<", "@", "\r", "\n", "\t", "\0", "\x7f"];
        string[] quotedPieces = ["a", " ", ".", "..", "@", "\\\"", "\\\\", "\\a", "\\ ", "\\\r", "\\\t", "\r", "\t", "ü", "(", ")", ",", "<>", "\"", "\\"];
        string[] domains = ["y.test", "Y.Test", "b_c.test", "-x.test", "x-.test", "a.b.c.d.e", "y.test.", "1.2.3.4", "[1.2.3.4]", "[256.1.1.1]",
            "[IPv6:::1]", "[IPv6:fe80::1]", "::1", "fe80::2", "ü.test", "日本.test", "y..test", ".y.test", "a b.test", "[ipv6:::1]", "x.test>"];
        var random = new Random(seed);
        var result = new List<string>();
        for (var n = 0; n < candidates; n++)
        {
            var local = new StringBuilder();
            var quoted = random.Next(4) == 0;
            var pieces = quoted ? quotedPieces : localPieces;
            for (var i = random.Next(1, 6); i > 0; i--)
            {
                local.Append(pieces[random.Next(pieces.Length)]);
            }
            var text = quoted ? "\"" + local + "\"" : local.ToString();
            var path = random.Next(40) switch
            {
                0 => "<postmaster>",
                1 => "<@relay.test:" + text + "@" + domains[random.Next(domains.Length)] + ">",
                _ => "<" + text + "@" + domains[random.Next(domains.Length)] + ">",
            };
            if (SmtpAddressParser.TryParsePath(Encoding.UTF8.GetBytes(path), allowNull: false, out var address, out _))
            {
                result.Add(address);
            }
        }
        return result;
    }
}
