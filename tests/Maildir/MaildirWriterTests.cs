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
}
