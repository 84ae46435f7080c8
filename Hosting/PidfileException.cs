namespace Failmail.Hosting;

// The pidfile is held by a live process or cannot be written; the message is for the user.
internal sealed class PidfileException : Exception
{
    public PidfileException()
    {
    }

    public PidfileException(string message)
        : base(message)
    {
    }

    public PidfileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
