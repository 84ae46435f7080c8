namespace Failmail.Sendmail;

// sendmail's own command line (sendmail(8), Postfix sendmail(1)), which is not Go flag syntax:
// single letters, values attached (-fuser) or separate (-f user), -o options glued to their
// letter (-oi, -oem), flags end at "--" or at the first recipient. What cron, mailx, sudo and
// logwatch send is understood; other historical flags are ignored with a warning, as they
// only tune a queue failmail does not have. Anything else is a usage error (EX_USAGE).
internal sealed record SendmailArguments
{
    // Letters whose value is attached or the next argument, and that we ignore.
    private const string IgnoredWithValue = "ONRXVLhpCA";
    // Letters without a value that we ignore (verbose, initial submission, ...).
    private const string IgnoredBare = "vUGnms";

    public bool RecipientsFromHeaders { get; init; }
    public string? Sender { get; init; }
    public string? FullName { get; init; }
    public bool IgnoreDots { get; init; }
    public bool QueueRunOnly { get; init; }
    public IReadOnlyList<string> Recipients { get; init; } = [];
    public IReadOnlyList<string> Warnings { get; init; } = [];

    public static bool TryParse(IReadOnlyList<string> args, out SendmailArguments result, out string error)
    {
        ArgumentNullException.ThrowIfNull(args);
        result = new SendmailArguments();
        error = "";
        var warnings = new List<string>();
        var recipients = new List<string>();
        var i = 0;
        for (; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                i++;
                break;
            }
            if (arg.Length < 2 || arg[0] != '-')
            {
                break;
            }
            var letter = arg[1];
            var attached = arg[2..];
            switch (letter)
            {
                case 't' when attached.Length == 0:
                    result = result with { RecipientsFromHeaders = true };
                    break;
                case 'i' when attached.Length == 0:
                    result = result with { IgnoreDots = true };
                    break;
                case 'f' or 'r' or 'F':
                    if (!TryValue(args, ref i, attached, out var value))
                    {
                        error = $"option -{letter} needs a value";
                        return false;
                    }
                    result = letter == 'F' ? result with { FullName = value } : result with { Sender = value };
                    break;
                case 'o':
                    // -oi is -i; -oem/-oee/-oep/-oeq (error mode), -odi/-odb (delivery mode)
                    // and the rest have nothing to tune here.
                    if (attached == "i")
                    {
                        result = result with { IgnoreDots = true };
                    }
                    else if (!(attached.StartsWith('e') || attached.StartsWith('d') || attached.Length == 0))
                    {
                        warnings.Add($"ignoring option {arg}");
                    }
                    break;
                case 'B':
                    // -B8BITMIME / -B7BIT: failmail accepts 8-bit mail either way.
                    if (!TryValue(args, ref i, attached, out _))
                    {
                        error = "option -B needs a value";
                        return false;
                    }
                    break;
                case 'b':
                    if (attached != "m")
                    {
                        error = $"mode {arg} is not supported (only -bm, deliver mail)";
                        return false;
                    }
                    break;
                case 'q':
                    // There is no queue to run: mail leaves through the daemon.
                    warnings.Add($"ignoring option {arg} (failmail has no sendmail queue)");
                    result = result with { QueueRunOnly = true };
                    break;
                case 'd' or 'e':
                    warnings.Add($"ignoring option {arg}");
                    break;
                default:
                    if (IgnoredWithValue.Contains(letter, StringComparison.Ordinal))
                    {
                        if (!TryValue(args, ref i, attached, out _))
                        {
                            error = $"option -{letter} needs a value";
                            return false;
                        }
                        warnings.Add($"ignoring option -{letter}");
                        break;
                    }
                    if (IgnoredBare.Contains(letter, StringComparison.Ordinal) && attached.Length == 0)
                    {
                        warnings.Add($"ignoring option {arg}");
                        break;
                    }
                    error = $"unknown option {arg}";
                    return false;
            }
        }
        for (; i < args.Count; i++)
        {
            // "a@x, b@y" in one argument is two recipients, as sendmail reads it.
            recipients.AddRange(args[i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        result = result with { Recipients = recipients, Warnings = warnings };
        return true;
    }

    private static bool TryValue(IReadOnlyList<string> args, ref int i, string attached, out string value)
    {
        if (attached.Length > 0)
        {
            value = attached;
            return true;
        }
        if (i + 1 < args.Count)
        {
            value = args[++i];
            return true;
        }
        value = "";
        return false;
    }
}
