using System.Text.Json;
using Failmail.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Failmail.Tests.Hosting;

// The shapes of Microsoft's simple (single line, UTC) and JSON console formatters, which
// these replaced: operators' log parsers must not notice.
public sealed class LogFormatterTests
{
    [Fact]
    public void LineFormatterWritesOneLinePerEvent()
    {
        var text = Format(new LineLogFormatter(), LogLevel.Warning, new InvalidOperationException("two\nlines"));

        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warn: Failmail.Test\[42\] relay 127.0.0.1:25 failed, 3 queued System.InvalidOperationException: two lines" + Environment.NewLine + "$", text);
    }

    [Fact]
    public void JsonFormatterWritesTheFieldsUnderState()
    {
        var text = Format(new JsonLogFormatter(), LogLevel.Information, exception: null);

        Assert.EndsWith(Environment.NewLine, text, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal(["Timestamp", "EventId", "LogLevel", "Category", "Message", "State"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(42, root.GetProperty("EventId").GetInt32());
        Assert.Equal("Information", root.GetProperty("LogLevel").GetString());
        Assert.Equal("relay 127.0.0.1:25 failed, 3 queued", root.GetProperty("Message").GetString());
        Assert.Equal(3, root.GetProperty("State").GetProperty("Queued").GetInt32());
        Assert.Equal("127.0.0.1:25", root.GetProperty("State").GetProperty("Upstream").GetString());
        Assert.Equal("relay {Upstream} failed, {Queued} queued", root.GetProperty("State").GetProperty("{OriginalFormat}").GetString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MinimumLevelFiltersBeforeFormatting(bool json)
    {
        using var factory = LoggingSetup.CreateLoggerFactory(json, LogLevel.Warning);

        Assert.False(factory.CreateLogger("x").IsEnabled(LogLevel.Information));
        Assert.True(factory.CreateLogger("x").IsEnabled(LogLevel.Warning));
    }

    private static string Format(Microsoft.Extensions.Logging.Console.ConsoleFormatter formatter, LogLevel level, Exception? exception)
    {
        var state = new List<KeyValuePair<string, object?>>
        {
            new("Upstream", "127.0.0.1:25"),
            new("Queued", 3),
            new("{OriginalFormat}", "relay {Upstream} failed, {Queued} queued"),
        };
        var entry = new LogEntry<IReadOnlyList<KeyValuePair<string, object?>>>(level, "Failmail.Test", new EventId(42), state, exception,
            (_, _) => "relay 127.0.0.1:25 failed, 3 queued");
        using var writer = new StringWriter();
        formatter.Write(entry, null, writer);
        return writer.ToString();
    }
}
