using Failmail.Hosting;

namespace Failmail.Tests.Hosting;

public sealed class PidfileTests : IDisposable
{
    // Above Linux's largest pid_max (2^22), so never a running process.
    private const int DeadPid = 99_999_999;

    private readonly string _dir = Directory.CreateTempSubdirectory("failmail-pidfile-").FullName;

    private string PidPath => Path.Combine(_dir, "failmail.pid");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void CreateWritesPidAndNewlineAndDisposeRemovesIt()
    {
        using (var pidfile = Pidfile.Create(PidPath))
        {
            Assert.Equal($"{Environment.ProcessId}\n", File.ReadAllText(PidPath));
            Assert.Null(pidfile.ReplacedStalePid);
        }

        Assert.False(File.Exists(PidPath));
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void StalePidfileIsReplaced()
    {
        File.WriteAllText(PidPath, $"{DeadPid}\n");

        using var pidfile = Pidfile.Create(PidPath);

        Assert.Equal(DeadPid, pidfile.ReplacedStalePid);
        Assert.Equal(Environment.ProcessId, Pidfile.ReadPid(PidPath));
    }

    // A process that has exited but not been reaped still answers kill(pid, 0): the check
    // must not take it for a running holder.
    [Fact]
    [Trait("Category", "EndToEnd")]
    public void PidfileOfAZombieIsStale()
    {
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        var zombie = ReloadHandOff.Spawn("/bin/true", [], [], listener);
        try
        {
            Assert.True(PosixNative.WaitExitedKeepZombie(zombie));
            Assert.Equal(0, PosixNative.Kill(zombie, 0));
            File.WriteAllText(PidPath, $"{zombie}\n");

            using var pidfile = Pidfile.Create(PidPath);

            Assert.Equal(zombie, pidfile.ReplacedStalePid);
        }
        finally
        {
            PosixNative.Reap(zombie, block: true);
        }
    }

    [Fact]
    public void GarbagePidfileIsReplaced()
    {
        File.WriteAllText(PidPath, "not a pid");

        using var pidfile = Pidfile.Create(PidPath);

        Assert.Equal(Environment.ProcessId, Pidfile.ReadPid(PidPath));
    }

    [Fact]
    public void LivePidfileIsAnError()
    {
        // The test process itself is the live holder; the newcomer claims another pid.
        File.WriteAllText(PidPath, $"{Environment.ProcessId}\n");

        var ex = Assert.Throws<PidfileException>(() => Pidfile.Create(PidPath, pid: DeadPid));

        Assert.Contains("already exists", ex.Message, StringComparison.Ordinal);
        Assert.Equal($"{Environment.ProcessId}\n", File.ReadAllText(PidPath));
    }

    [Fact]
    public void ReloadChildTakesOverItsParentsPidfileAndTheParentLeavesIt()
    {
        // Parent: the test process. Child: a pretend pid that names the parent as parentPid.
        var parent = Pidfile.Create(PidPath);
        const int ChildPid = DeadPid - 1;

        using var child = Pidfile.Create(PidPath, pid: ChildPid, parentPid: Environment.ProcessId);
        parent.Dispose();

        Assert.Equal(ChildPid, Pidfile.ReadPid(PidPath));
        Assert.Null(child.ReplacedStalePid);
    }

    [Fact]
    public void KeepForChildLeavesThePidfileInPlace()
    {
        var parent = Pidfile.Create(PidPath);

        parent.KeepForChild();
        parent.Dispose();

        Assert.Equal(Environment.ProcessId, Pidfile.ReadPid(PidPath));
    }

    [Fact]
    public void UnwritableDirectoryIsAnError()
    {
        var ex = Assert.Throws<PidfileException>(() => Pidfile.Create(Path.Combine(_dir, "missing", "failmail.pid")));

        Assert.Contains("could not write pidfile", ex.Message, StringComparison.Ordinal);
    }
}
