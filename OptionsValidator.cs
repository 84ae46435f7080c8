using Failmail.Addresses;
using Failmail.Batching;
using Failmail.Config;
using Failmail.GoSyntax;
using Failmail.Relay;
using Failmail.Rewriting;
using Failmail.Smtp;

namespace Failmail;

// Start-up checks on the merged settings, in the composition root: it asks each area for
// its own checks (SmtpCredentials.Parse, SmtpTls.Problems, RelaySettings.TryFrom), so a rule
// lives where its setting is used, once. Pure: no file or network access (the services open
// their files and sockets and report their own errors). Each message is one line that starts
// with the flag it is about; the CLI prefixes "failmail: " and exits 2.
internal static class OptionsValidator
{
    // RFC 5321 §4.5.3.1.4: a server must accept command lines of 512 octets including CRLF.
    private const int MinCommandLine = 512;

    public static IReadOnlyList<string> Validate(FailmailOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();

        try
        {
            _ = SmtpCredentials.Parse(options.Credentials);
        }
        catch (ArgumentException e)
        {
            errors.Add(e.Message);
        }
        errors.AddRange(SmtpTls.Problems(options));

        if ((options.RewriteSrc.Length > 0) != (options.RewriteDest.Length > 0))
        {
            errors.Add(options.RewriteSrc.Length > 0
                ? "--rewrite-src: needs --rewrite-dest as well (they must be given together)"
                : "--rewrite-dest: needs --rewrite-src as well (they must be given together)");
        }
        if (options.RewriteSrc.Length > 0 && TryCompile(options.RewriteSrc) is { } regexError)
        {
            errors.Add($"--rewrite-src: invalid regular expression: {regexError}");
        }

        if (options.MessageStore.Length == 0 && !options.MemoryStore)
        {
            errors.Add("--message-store: must not be empty unless --memory-store is set");
        }
        // failmail turned an empty --fail-dir into "the current directory is a maildir".
        RequireNonEmpty(errors, "fail-dir", options.FailDir);
        RequireNonEmpty(errors, "queue-dir", options.QueueDir);
        RequireNonEmpty(errors, "quarantine-dir", options.QuarantineDir);
        // Every digest carries --from (header and envelope): a value no header can carry would
        // send every batch to the quarantine, so it is a start-up error instead.
        if (!MimeKit.MailboxAddress.TryParse(options.From, out _) && !EnvelopeMailbox.CanCarry(options.From))
        {
            errors.Add($"--from: not a mail address: {EnvelopeMailbox.Printable(options.From)}");
        }

        if (options.SocketFd < 0)
        {
            errors.Add($"--socket-fd: must not be negative (got {options.SocketFd})");
        }

        RequireAtLeast(errors, "max-message-size", options.MaxMessageSize, 1);
        RequireAtLeast(errors, "max-command-line", options.MaxCommandLine, MinCommandLine);
        RequireAtLeast(errors, "max-recipients", options.MaxRecipients, 1);
        RequireAtLeast(errors, "max-connections", options.MaxConnections, 1);
        RequireAtLeast(errors, "max-digest-size", options.MaxDigestSize, DigestLimits.MinBytes);
        RequireAtLeast(errors, "max-digest-groups", options.MaxDigestGroups, 1);
        RequireNonNegative(errors, "first-wait", options.FirstWait);
        RequireNonNegative(errors, "follow-up-interval", options.FollowUpInterval);
        RequireAtLeast(errors, "page-threshold", options.PageThreshold, 0);
        if (options.PageThreshold > 0)
        {
            RequirePositive(errors, "page-window", options.PageWindow);
            if (string.IsNullOrWhiteSpace(options.PageTo))
            {
                errors.Add("--page-to: required with --page-threshold (where the storm notice goes)");
            }
        }

        RequireNonNegative(errors, "shutdown-timeout", options.ShutdownTimeout);
        RequireNonNegative(errors, "wait-period", options.WaitPeriod);
        RequireNonNegative(errors, "max-wait", options.MaxWait);
        // failmail's poll <= 0 silently meant "flush only at shutdown"; we need a real tick.
        RequirePositive(errors, "poll", options.Poll);
        RequirePositive(errors, "command-timeout", options.CommandTimeout);
        RequirePositive(errors, "data-timeout", options.DataTimeout);
        RequirePositive(errors, "relay-timeout", options.RelayTimeout);
        RequirePositive(errors, "retry-min", options.RetryMin);
        RequirePositive(errors, "retry-max", options.RetryMax);
        RequirePositive(errors, "queue-lifetime", options.QueueLifetime);
        if (options.RetryMax < options.RetryMin && options.RetryMax > TimeSpan.Zero)
        {
            errors.Add($"--retry-max: must not be less than --retry-min ({GoDuration.Format(options.RetryMax)} < {GoDuration.Format(options.RetryMin)})");
        }

        // Compiled here as well as in the batcher, so a broken expression stops every mode
        // (--receiver alone, --write-config) whether it came from a flag or the config file.
        foreach (var (flag, expression) in new[] { ("--batch-expr", options.BatchExpr), ("--group-expr", options.GroupExpr) })
        {
            try
            {
                _ = MessageExpression.Create(flag, expression);
            }
            catch (ExpressionException e)
            {
                errors.Add(e.Message);
            }
        }

        Collect(errors, () => ClientNetworks.Parse(options.AllowFrom));
        if (options.LocalDomains.Trim().Length > 0)
        {
            // With a list given, Resolve looks nothing up: a pure check.
            Collect(errors, () => LocalDomains.Resolve(options.LocalDomains, "localhost"));
        }

        _ = RelaySettings.TryFrom(options, out _, out var relayProblems);
        errors.AddRange(relayProblems);
        errors.AddRange(Api.ApiSettings.Problems(options));
        return errors;
    }

    // failmail's patterns are Go RE2 ((?P<name>...) and all): checked by the same translation
    // that --rewrite-src and the match/replace filters run with.
    private static string? TryCompile(string pattern)
    {
        try
        {
            _ = GoRegex.Get(pattern);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    private static void Collect(List<string> errors, Action check)
    {
        try
        {
            check();
        }
        catch (ArgumentException e)
        {
            errors.Add(e.Message);
        }
    }

    private static void RequireNonEmpty(List<string> errors, string name, string value)
    {
        if (value.Length == 0)
        {
            errors.Add($"--{name}: must not be empty");
        }
    }

    private static void RequireAtLeast(List<string> errors, string name, long value, long minimum)
    {
        if (value < minimum)
        {
            errors.Add($"--{name}: must be at least {minimum} (got {value})");
        }
    }

    private static void RequireNonNegative(List<string> errors, string name, TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            errors.Add($"--{name}: must not be negative (got {GoDuration.Format(value)})");
        }
    }

    private static void RequirePositive(List<string> errors, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"--{name}: must be positive (got {GoDuration.Format(value)})");
        }
    }
}
