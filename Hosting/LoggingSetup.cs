using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Failmail.Hosting;

// One line per event on stderr (spec §8.5 kept stderr): UTC timestamp, level, category with
// event id, message with its key fields. With json, one JSON object per line instead, the
// fields as properties under "State".
// The factory and the console provider are built by hand: LoggerFactory.Create goes through
// a service provider whose open generics the AOT type loader builds at run time, which was
// ~28% of start-up CPU. The console provider keeps its writer thread and bounded queue.
internal static class LoggingSetup
{
    public const string TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";

    public static ILoggerFactory CreateLoggerFactory(bool json, LogLevel minimumLevel)
    {
        ConsoleFormatter formatter = json ? new JsonLogFormatter() : new LineLogFormatter();
        var options = new ConsoleLoggerOptions
        {
            FormatterName = formatter.Name,
            // Every level goes to stderr: stdout belongs to `--relay-addr debug` digests.
            LogToStandardErrorThreshold = LogLevel.Trace,
        };
        var factory = new LoggerFactory([], new LoggerFilterOptions { MinLevel = minimumLevel });
        // AddProvider hands the provider to the factory, whose Dispose flushes its queue.
        factory.AddProvider(new ConsoleLoggerProvider(new FixedConsoleOptions(options), [formatter]));
        return factory;
    }
}
