using Failmail.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Failmail.Tests.Hosting;

public sealed class SignalHandlerTests
{
    [Theory]
    [InlineData(PosixNative.SigTerm, 143)]
    [InlineData(PosixNative.SigInt, 130)]
    public void FirstStopSignalCancelsAndSecondExitsAtOnce(int signal, int expectedStatus)
    {
        var exits = new List<int>();
        using var handler = new SignalHandler(NullLogger.Instance, exits.Add);

        Assert.True(handler.Handle(signal));
        Assert.True(handler.ShutdownToken.IsCancellationRequested);
        Assert.Empty(exits);

        Assert.True(handler.Handle(signal));
        Assert.Equal([expectedStatus], exits);
    }

    [Fact]
    public void StopSignalsOfEitherKindCountTogether()
    {
        var exits = new List<int>();
        using var handler = new SignalHandler(NullLogger.Instance, exits.Add);

        handler.RequestShutdown();
        handler.Handle(PosixNative.SigInt);

        Assert.Equal([130], exits);
    }

    [Fact]
    public void SigUsr2IsAHandOverOnlyInAWorker()
    {
        using var handler = new SignalHandler(NullLogger.Instance, _ => { });
        Assert.False(handler.Handle(PosixNative.SigUsr2));
        handler.RegisterHandOver();
        Assert.True(handler.Handle(PosixNative.SigUsr2));
        Assert.True(handler.HandOverRequested.IsCompleted);
        Assert.False(handler.ShutdownToken.IsCancellationRequested);
    }

    [Fact]
    public void OtherSignalsKeepTheirDefault()
    {
        using var handler = new SignalHandler(NullLogger.Instance, _ => { });

        Assert.False(handler.Handle(12));
        Assert.False(handler.ShutdownToken.IsCancellationRequested);
    }

    // Real signals to this test process, through the registered handlers: SIGUSR1 is the raw
    // number 10 cast to PosixSignal, SIGHUP a named member. Neither stops anything.
    [Fact]
    public async Task RealSigusr1AndSighupRequestReloads()
    {
        using var handler = new SignalHandler(NullLogger.Instance, _ => { });
        handler.Register();

        Assert.Equal(0, PosixNative.Kill(Environment.ProcessId, PosixNative.SigUsr1));
        await handler.WaitForReloadAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, PosixNative.Kill(Environment.ProcessId, PosixNative.SigHup));
        await handler.WaitForReloadAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(handler.ShutdownToken.IsCancellationRequested);
    }

    [Fact]
    public async Task ReloadsRequestedBeforeAnyoneWaitsAreKept()
    {
        using var handler = new SignalHandler(NullLogger.Instance, _ => { });

        handler.Handle(PosixNative.SigUsr1);

        await handler.WaitForReloadAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(handler.WaitForReloadAsync(CancellationToken.None).IsCompleted);
    }
}
