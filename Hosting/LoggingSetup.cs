using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Failmail.Hosting;

// One line per event on stderr (spec §8.5 kept stderr): UTC timestamp, level, category with
// event id, message with its key fields. With json, one JSON object per line instead, the
// fields as properties under "State".
internal static class LoggingSetup
{
    public const string TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";

    public static ILoggerFactory CreateLoggerFactory(bool json, LogLevel minimumLevel)
    {
        return LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(minimumLevel);
            // Every level goes to stderr: stdout belongs to `--relay-addr debug` digests.
            builder.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
            if (json)
            {
                builder.AddJsonConsole(options =>
                {
                    options.UseUtcTimestamp = true;
                    options.TimestampFormat = TimestampFormat.TrimEnd();
                    options.IncludeScopes = false;
                });
            }
            else
            {
                builder.AddSimpleConsole(options =>
                {
                    options.SingleLine = true;
                    options.UseUtcTimestamp = true;
                    options.TimestampFormat = TimestampFormat;
                    options.IncludeScopes = false;
                    options.ColorBehavior = LoggerColorBehavior.Disabled;
                });
            }
        });
    }
}
