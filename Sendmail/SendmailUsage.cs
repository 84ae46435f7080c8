namespace Failmail.Sendmail;

// `failmail sendmail --help`. Only "--help" as the first sendmail argument asks for it: -h is
// sendmail's hop count (-h 5, ignored), and anything else sendmail does not know, --help
// after other options included, stays a usage error (EX_USAGE), as sendmail(8) has it.
internal static class SendmailUsage
{
    public const string HelpFlag = "--help";

    public const string Text = """
        Usage: failmail [flags] sendmail [options] [recipients...]
               sendmail [options] [recipients...]    (through a link named sendmail)

        Reads one message on stdin and submits it to the failmail at --bind-addr, like
        sendmail(8). failmail's own flags (--config, --bind-addr, --qualify-domain,
        --spool-dir, ...) go before the word sendmail; through a link the settings come from
        $FAILMAIL_CONFIG, else /etc/failmail.conf when it exists.

        Options:
          -t                   recipients from To, Cc and Bcc as well as the command line
          -f addr, -r addr     envelope sender (default: the invoking user); -f '<>' is null
          -F name              full name for the From header added when there is none
          -i, -oi              a line with a lone . does not end the message
          -oem, -odi, -B8BITMIME, -bm, --
                               accepted (nothing to tune)
          -o*, -q*, -v, -h n, -O, -N, -R, -X, ...
                               ignored with a warning
          --help               show this help (as the first argument)

        Exit status (sysexits): 0 sent; 64 bad options or no recipients; 65 unparsable
        message or a 5xx for it; 69 other 5xx; 75 spooled in --spool-dir (failmail
        unreachable or 4xx); 78 bad settings.
        """;

    public static bool IsRequested(IReadOnlyList<string> arguments) =>
        arguments.Count > 0 && string.Equals(arguments[0], HelpFlag, StringComparison.Ordinal);
}
