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

    // The relay refused the message for its size (552, RFC 5321 §4.5.3.1.10; RFC 3463
    // 5.3.4): a digest can be re-rendered smaller and sent again.
    public bool TooLarge { get; init; }
}
