namespace Failmail.Outputs.Irc;

// The IRC server refused us (nick, channel, SASL) or did not answer in time. Retryable, as a
// connection error is: the output worker backs off and tries again.
internal sealed class IrcException : Exception
{
    public IrcException()
    {
    }

    public IrcException(string message)
        : base(message)
    {
    }

    public IrcException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
