using Microsoft.Extensions.Logging;

namespace Failmail.Outputs.Irc;

// IRC output events 950-959 (the outputs are 900-949). No passwords, no message text.
internal static partial class OutputIrcLog
{
    [LoggerMessage(EventId = 950, Level = LogLevel.Information, Message = "IRC output {Target} joined as {Nick}")]
    public static partial void Joined(ILogger logger, IrcTarget target, string nick);
}
