using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Failmail.Hosting;

// Console logger options that never change, for the provider built without a service provider.
internal sealed class FixedConsoleOptions(ConsoleLoggerOptions value) : IOptionsMonitor<ConsoleLoggerOptions>
{
    public ConsoleLoggerOptions CurrentValue => value;

    public ConsoleLoggerOptions Get(string? name) => value;

    public IDisposable? OnChange(Action<ConsoleLoggerOptions, string?> listener) => null;
}
