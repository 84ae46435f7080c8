namespace Failmail.Smtp;

// The receiver's limits, taken once from FailmailOptions (each default cites RFC 5321 there).
internal readonly record struct SmtpLimits(
    long MaxMessageSize,
    int MaxCommandLine,
    int MaxRecipients,
    int MaxConnections,
    TimeSpan CommandTimeout,
    TimeSpan DataTimeout)
{
    // AUTH failures tolerated per connection before it is closed with 421.
    public const int MaxAuthFailures = 3;

    public static SmtpLimits From(FailmailOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new SmtpLimits(
            // Zero or less: no limit (EHLO then advertises a bare SIZE, RFC 1870 §4).
            options.MaxMessageSize > 0 ? options.MaxMessageSize : long.MaxValue,
            // §4.5.3.1.4: 512 octets including CRLF is the floor a server must accept;
            // a smaller setting would refuse conforming clients, so it is raised to 512.
            Math.Max(options.MaxCommandLine, 512),
            Math.Max(options.MaxRecipients, 1),
            Math.Max(options.MaxConnections, 1),
            // Zero or less: no deadline.
            options.CommandTimeout > TimeSpan.Zero ? options.CommandTimeout : Timeout.InfiniteTimeSpan,
            options.DataTimeout > TimeSpan.Zero ? options.DataTimeout : Timeout.InfiniteTimeSpan);
    }
}
