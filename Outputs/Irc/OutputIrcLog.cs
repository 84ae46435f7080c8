using Microsoft.Extensions.Logging;

namespace Failmail.Outputs.Irc;

// IRC output events 690-699 (the outputs' range is 600-699). No passwords, no message text.
internal static partial class OutputIrcLog
{
    [LoggerMessage(EventId = 690, Level = LogLevel.Information, Message = "IRC output {Target} joined as {Nick}")]
    public static partial void Joined(ILogger logger, IrcTarget target, string nick);
}
