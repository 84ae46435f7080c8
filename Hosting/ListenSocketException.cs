namespace Failmail.Hosting;

// A --socket-fd or socket-activation descriptor that cannot be used; the message is for the user.
internal sealed class ListenSocketException : Exception
{
    public ListenSocketException()
    {
    }

    public ListenSocketException(string message)
        : base(message)
    {
    }

    public ListenSocketException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
