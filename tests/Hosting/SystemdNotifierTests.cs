using System.Net.Sockets;
using System.Text;
using Failmail.Hosting;

namespace Failmail.Tests.Hosting;

public sealed class SystemdNotifierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("failmail-notify-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ReadyAndStoppingArriveAsDatagramsOnAPathSocket()
    {
        var path = Path.Combine(_dir, "notify");
        using var receiver = Bind(path);
        var notifier = new SystemdNotifier(path);

        Assert.True(notifier.Ready());
        Assert.True(notifier.Stopping());

        Assert.Equal("READY=1", await ReceiveAsync(receiver).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("STOPPING=1", await ReceiveAsync(receiver).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task AtSignMeansTheAbstractNamespace()
    {
        var name = $"failmail-test-{Guid.NewGuid():N}";
        using var receiver = Bind("\0" + name);
        var notifier = new SystemdNotifier("@" + name);

        Assert.True(notifier.Reloading(123456));
        Assert.True(notifier.MainPid(4242));

        Assert.Equal("RELOADING=1\nMONOTONIC_USEC=123456", await ReceiveAsync(receiver).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("MAINPID=4242", await ReceiveAsync(receiver).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void WithoutNotifySocketNothingIsSent()
    {
        var notifier = new SystemdNotifier(null);

        Assert.False(notifier.IsEnabled);
        Assert.False(notifier.Ready());
    }

    [Fact]
    public void AMissingSocketIsNotAnError()
    {
        var notifier = new SystemdNotifier(Path.Combine(_dir, "nobody-listens"));

        Assert.True(notifier.IsEnabled);
        Assert.False(notifier.Ready());
    }

    private static Socket Bind(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    private static async Task<string> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[4096];
        var n = await socket.ReceiveAsync(buffer, SocketFlags.None);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }
}
