namespace Failmail.Relay;

// A failed relay attempt, classified by the transport that knows its library's errors.
internal sealed class RelayException : Exception
{
    public RelayException()
    {
    }

    public RelayException(string message)
        : base(message)
    {
    }

    public RelayException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RelayException(RelayFailureKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public RelayFailureKind Kind { get; } = RelayFailureKind.ConnectionTransient;
}
