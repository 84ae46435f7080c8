using Failmail.Hosting;
using Microsoft.Extensions.Logging;

namespace Failmail.Tests.Hosting;

public sealed class LoggingSetupTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MinimumLevelIsHonoured(bool json)
    {
        using var factory = LoggingSetup.CreateLoggerFactory(json, LogLevel.Information);
        var logger = factory.CreateLogger("Failmail.Hosting");

        Assert.False(logger.IsEnabled(LogLevel.Debug));
        Assert.True(logger.IsEnabled(LogLevel.Information));
        Assert.True(logger.IsEnabled(LogLevel.Error));
    }

    [Fact]
    public void DebugLevelEnablesDebugEvents()
    {
        using var factory = LoggingSetup.CreateLoggerFactory(json: false, LogLevel.Debug);

        Assert.True(factory.CreateLogger("Failmail.Smtp").IsEnabled(LogLevel.Debug));
    }
}
