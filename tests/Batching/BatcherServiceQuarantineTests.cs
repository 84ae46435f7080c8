using System.Text;
using Failmail.Batching;
using Failmail.Sendmail;
using Failmail.Tests.Maildir;
using static Failmail.Tests.Batching.BatcherServiceKit;

namespace Failmail.Tests.Batching;

// A batch whose digest cannot be built goes to the quarantine alone; every other batch goes
// on, and the store lets go of the quarantined messages.
public sealed class BatcherServiceQuarantineTests : IAsyncDisposable
{
    // As an earlier version could have stored it: a quoted local part holding a CR, which no
    // mail header can carry (the SMTP parser refuses it now).
    private const string Uncarriable = "\"a\rb\"@y.test";

    private readonly BatcherServiceKit _kit = new();
    private readonly TempDirectory _dir = new();

    public async ValueTask DisposeAsync()
    {
        await _kit.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task ABatchThatCannotBeDigestedIsQuarantinedAndTheOthersGoOn()
    {
        var quarantine = new Quarantine(_dir.Combine("quarantine"));
        var service = await _kit.StartAsync(quarantine: quarantine);
        await _kit.AcceptAsync(await _kit.StoreAsync("poison", to: [Uncarriable, "ops@example.com"]));
        await _kit.AcceptAsync(await _kit.StoreAsync("disk full", to: ["ops@example.com"]));
        await _kit.TickAsync(7);

        var digest = Assert.Single(_kit.Sender.Sent);
        Assert.Equal("ops@example.com", digest.Recipient);
        Assert.Equal(2, digest.MessageIds.Count);
        Assert.Equal(1, service.BatchesQuarantined);
        Assert.Equal(1, quarantine.Messages);
        Assert.Empty(_kit.Store.LoadPending());

        var file = File.ReadAllBytes(Assert.Single(Directory.GetFiles(_dir.Combine("quarantine", "new"))));
        var text = Encoding.UTF8.GetString(file);
        Assert.StartsWith(Quarantine.ReasonHeader + ": digest for <\"a b\"@y.test>", text, StringComparison.Ordinal);
        Assert.Contains("FormatException", text, StringComparison.Ordinal);
        Assert.Contains("Subject: poison", text, StringComparison.Ordinal);

        // `resend quarantine` leaves the file in the spool's format: only the failed recipient,
        // the original sender and the whole message. The spool refuses this recipient until
        // an operator fixes it (it would fail again); with the address mended it is taken.
        var limits = SpoolLimits.From(new FailmailOptions());
        var spoolFile = Quarantine.ToSpoolFile(file)!;
        Assert.False(SpoolFile.TryDecode(spoolFile, limits, out _, out var refusal));
        Assert.Contains("X-Failmail-Envelope-To", refusal, StringComparison.Ordinal);
        var mended = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(spoolFile).Replace(Uncarriable, "fixed@y.test", StringComparison.Ordinal));
        Assert.True(SpoolFile.TryDecode(mended, limits, out var spooled, out var why), why);
        Assert.NotNull(spooled);
        Assert.Equal("app@example.com", spooled.From);
        Assert.Equal(["fixed@y.test"], spooled.Recipients);
        Assert.StartsWith("Subject: poison\r\n", Encoding.UTF8.GetString(spooled.Bytes), StringComparison.Ordinal);

        // And the batcher is still alive for the next storm.
        await _kit.AcceptAsync(await _kit.StoreAsync("cpu hot"));
        await _kit.TickAsync(7);
        Assert.Equal(2, _kit.Sender.Sent.Count);
        Assert.Equal("[failmail] 1 instance: cpu hot", _kit.Sender.Sent[1].Message.Subject);
    }

    [Fact]
    public void ResendToSpoolMovesOnlyQuarantineFilesAndLeavesTheRest()
    {
        var quarantine = new Quarantine(_dir.Combine("q"));
        quarantine.Put("Subject: x\r\n\r\nbody\r\n"u8, "app@example.com", ["ops@example.com"], "test\r\nreason", BatcherServiceKit.T0);
        File.WriteAllText(_dir.Combine("q", "new", "not-quarantine"), "Subject: digest\r\n\r\nx\r\n");

        Assert.Equal(1, Quarantine.ResendToSpool(_dir.Combine("q"), _dir.Combine("spool")));

        Assert.Equal(["not-quarantine"], Directory.GetFiles(_dir.Combine("q", "new")).Select(Path.GetFileName));
        var spooled = File.ReadAllBytes(Assert.Single(Directory.GetFiles(_dir.Combine("spool", "new"))));
        Assert.True(SpoolFile.TryDecode(spooled, SpoolLimits.From(new FailmailOptions()), out var message, out var why), why);
        Assert.Equal(["ops@example.com"], message!.Recipients);
        Assert.Equal("Subject: x\r\n\r\nbody\r\n", Encoding.UTF8.GetString(message.Bytes));
    }
}
