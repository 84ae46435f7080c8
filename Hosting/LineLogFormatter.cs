using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Failmail.Hosting;

// One event per line, as the simple console formatter writes it with SingleLine, UTC
// timestamps, no scopes and no colours:
//   2026-12-04T21:02:00.123Z info: Failmail.Host[500] failmail 0.1.0 starting, pid 42
// Line breaks inside the message or the exception become spaces.
internal sealed class LineLogFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "failmail-line";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }
        textWriter.Write(DateTimeOffset.UtcNow.ToString(LoggingSetup.TimestampFormat, CultureInfo.InvariantCulture));
        textWriter.Write(LevelName(logEntry.LogLevel));
        textWriter.Write(": ");
        textWriter.Write(logEntry.Category);
        textWriter.Write('[');
        textWriter.Write(logEntry.EventId.Id.ToString(CultureInfo.InvariantCulture));
        textWriter.Write(']');
        WriteOnOneLine(textWriter, message);
        WriteOnOneLine(textWriter, logEntry.Exception?.ToString());
        textWriter.Write(Environment.NewLine);
    }

    private static void WriteOnOneLine(TextWriter textWriter, string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            textWriter.Write(' ');
            textWriter.Write(text.Replace(Environment.NewLine, " ", StringComparison.Ordinal));
        }
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => throw new ArgumentOutOfRangeException(nameof(level)),
    };
}
