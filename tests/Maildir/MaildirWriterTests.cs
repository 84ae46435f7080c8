using Failmail.Maildir;

namespace Failmail.Tests.Maildir;

public class MaildirWriterTests
{
    [Fact]
    public void DeliveredMessageLandsInNewWithNothingLeftInTmp()
    {
        var root = Path.Combine(Path.GetTempPath(), "failmail-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var writer = new MaildirWriter(root);
            var name = writer.Deliver("Subject: x\r\n\r\nbody\r\n"u8);
            Assert.Equal("Subject: x\r\n\r\nbody\r\n", File.ReadAllText(Path.Combine(root, "new", name)));
            Assert.Empty(Directory.GetFiles(Path.Combine(root, "tmp")));
            Assert.NotEqual(name, writer.Deliver("second"u8));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void FailedDeliveryThrowsIOExceptionAndLeavesNothingInTmp()
    {
        using var dir = new TempDirectory();
        var writer = new MaildirWriter(dir.Path);
        // Tests run as root: a regular file where new/ should be fails for root too.
        Directory.Delete(dir.Combine("new"));
        File.WriteAllText(dir.Combine("new"), "");
        var e = Assert.ThrowsAny<IOException>(() => writer.Deliver("Subject: x\r\n\r\n"u8));
        Assert.Contains(dir.Path, e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir.Combine("tmp")));
    }
}
