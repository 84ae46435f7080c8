using Failmail.Sendmail;

namespace Failmail.Tests.Sendmail;

// The maildrop layout's modes; who may read what is tested as real users in
// EndToEnd/SendmailTests (runuser), since the tests run as root.
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SpoolDirectoryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("failmail-spooldir-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PrepareCreatesTheLayoutWithItsModes()
    {
        var spool = Path.Combine(_dir, "spool");
        SpoolDirectory.Prepare(spool);
        Assert.Equal(SpoolDirectory.RootMode, File.GetUnixFileMode(spool));
        Assert.Equal(SpoolDirectory.DropMode, File.GetUnixFileMode(Path.Combine(spool, "tmp")));
        Assert.Equal(SpoolDirectory.DropMode, File.GetUnixFileMode(Path.Combine(spool, "new")));
        Assert.Equal(SpoolDirectory.BadMode, File.GetUnixFileMode(Path.Combine(spool, "bad")));
    }

    [Fact]
    public void PreparePutsAnOldLayoutRight()
    {
        var spool = Path.Combine(_dir, "spool");
        Directory.CreateDirectory(Path.Combine(spool, "new"));
        File.SetUnixFileMode(Path.Combine(spool, "new"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        SpoolDirectory.Prepare(spool);
        Assert.Equal(SpoolDirectory.DropMode, File.GetUnixFileMode(Path.Combine(spool, "new")));
    }

    [Fact]
    public void APublicDirectoryIsNotLockedDown()
    {
        var shared = Directory.CreateDirectory(Path.Combine(_dir, "shared")).FullName;
        var mode = UnixFileMode.StickyBit | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        File.SetUnixFileMode(shared, mode);
        Assert.Contains("readable and writable by everyone", Assert.Throws<IOException>(() => SpoolDirectory.Prepare(shared)).Message, StringComparison.Ordinal);
        Assert.Equal(mode, File.GetUnixFileMode(shared));
        Assert.False(Directory.Exists(Path.Combine(shared, "new")));
    }

    [Fact]
    public void ALinkWhereADirectoryBelongsIsRefusedAndNotFollowed()
    {
        var spool = Path.Combine(_dir, "spool");
        var elsewhere = Directory.CreateDirectory(Path.Combine(_dir, "elsewhere")).FullName;
        var before = File.GetUnixFileMode(elsewhere);
        Directory.CreateDirectory(spool);
        File.CreateSymbolicLink(Path.Combine(spool, "new"), elsewhere);
        var error = Assert.Throws<IOException>(() => SpoolDirectory.Prepare(spool));
        Assert.Contains("is not a directory", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.GetUnixFileMode(elsewhere));
    }

    [Fact]
    public void DeliverWritesAReadableToTheGroupFileIntoNewWhateverTheUmask()
    {
        var spool = Path.Combine(_dir, "spool");
        var path = SpoolDirectory.Deliver(spool, "X-Failmail-Envelope-From: <a@b.c>\r\n"u8);
        Assert.Equal(Path.Combine(spool, "new"), Path.GetDirectoryName(path));
        Assert.Equal(SpoolDirectory.FileMode, File.GetUnixFileMode(path));
        Assert.Equal("X-Failmail-Envelope-From: <a@b.c>\r\n", File.ReadAllText(path));
        Assert.Empty(Directory.GetFiles(Path.Combine(spool, "tmp")));
    }
}
