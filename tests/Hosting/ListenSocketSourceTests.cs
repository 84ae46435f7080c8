using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Failmail.Hosting;

namespace Failmail.Tests.Hosting;

// Uses the process environment (LISTEN_*): the only tests that do, kept in one class so
// xunit runs them one after another.
public sealed class ListenSocketSourceTests
{
    [Fact]
    public void NoFdAndNoEnvironmentMeansBindNormally()
    {
        Assert.Null(ListenSocketSource.Acquire(0, _ => null));
    }

    [Fact]
    public async Task SocketFdOfAListeningSocketIsAcceptedFrom()
    {
        using var original = Listen(out var port);
        var fd = Dup(original);

        using var inherited = ListenSocketSource.Acquire(fd, _ => null);

        Assert.NotNull(inherited);
        Assert.Equal(port, ((IPEndPoint)inherited.LocalEndPoint!).Port);
        // The fresh descriptor is the one we own now: the original can go.
        original.Dispose();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(TimeSpan.FromSeconds(10));
        using var accepted = await inherited.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(accepted.Connected);
    }

    [Fact]
    public void InheritedSocketHasLingerClearedThatAnAbortiveParentLeftOn()
    {
        using var original = Listen(out _);
        original.LingerState = new LingerOption(true, 0);

        using var inherited = ListenSocketSource.Acquire(Dup(original), _ => null);

        Assert.NotNull(inherited);
        Assert.False(original.LingerState?.Enabled);
    }

    [Fact]
    public void SocketFdOfABoundButNotListeningSocketIsRefused()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        var ex = Assert.Throws<ListenSocketException>(() => ListenSocketSource.Acquire((int)socket.SafeHandle.DangerousGetHandle(), _ => null));

        Assert.Contains("not listening", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SocketFdOfAUdpSocketIsRefused()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        var ex = Assert.Throws<ListenSocketException>(() => ListenSocketSource.Acquire((int)socket.SafeHandle.DangerousGetHandle(), _ => null));

        Assert.Contains("not a TCP socket", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SocketFdOfAFileIsRefusedAndLeftOpen()
    {
        var path = Path.GetTempFileName();
        try
        {
            using var file = File.OpenHandle(path);
            var fd = (int)file.DangerousGetHandle();

            var ex = Assert.Throws<ListenSocketException>(() => ListenSocketSource.Acquire(fd, _ => null));

            Assert.Contains("not a socket", ex.Message, StringComparison.Ordinal);
            Assert.True(PosixNative.Fcntl(fd, PosixNative.FGetFd, 0) >= 0);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void SocketFdThatIsNotOpenIsRefused()
    {
        var ex = Assert.Throws<ListenSocketException>(() => ListenSocketSource.Acquire(65000, _ => null));

        Assert.Contains("not an open file descriptor", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SocketActivationForThisProcessIsUsedAndTheVariablesAreUnset()
    {
        using var original = Listen(out var port);
        var fd = Dup(original);
        Environment.SetEnvironmentVariable("LISTEN_PID", Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Environment.SetEnvironmentVariable("LISTEN_FDS", "1");
        try
        {
            using var inherited = ListenSocketSource.Acquire(0, firstFd: fd);

            Assert.NotNull(inherited);
            Assert.Equal(port, ((IPEndPoint)inherited.LocalEndPoint!).Port);
            Assert.Null(Environment.GetEnvironmentVariable("LISTEN_PID"));
            Assert.Null(Environment.GetEnvironmentVariable("LISTEN_FDS"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("LISTEN_PID", null);
            Environment.SetEnvironmentVariable("LISTEN_FDS", null);
        }
    }

    [Fact]
    public void SocketActivationMeantForAnotherProcessIsIgnoredAndUnset()
    {
        Environment.SetEnvironmentVariable("LISTEN_PID", "1");
        Environment.SetEnvironmentVariable("LISTEN_FDS", "1");
        try
        {
            Assert.Null(ListenSocketSource.Acquire(0));
            Assert.Null(Environment.GetEnvironmentVariable("LISTEN_PID"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("LISTEN_PID", null);
            Environment.SetEnvironmentVariable("LISTEN_FDS", null);
        }
    }

    [Fact]
    public void SocketActivationWithTwoSocketsIsRefused()
    {
        var env = new Dictionary<string, string>
        {
            ["LISTEN_PID"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
            ["LISTEN_FDS"] = "2",
        };

        Assert.Throws<ListenSocketException>(() => ListenSocketSource.Acquire(0, name => env.GetValueOrDefault(name)));
    }

    private static Socket Listen(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen(16);
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }

    // A second descriptor for the same socket, as an inheriting process would have.
    private static int Dup(Socket socket)
    {
        var fd = PosixNative.Fcntl((int)socket.SafeHandle.DangerousGetHandle(), PosixNative.FDupFdCloexec, 10);
        Assert.True(fd >= 10);
        return fd;
    }
}
