namespace Failmail.Outputs;

// The kinds of target a transport map names. Smtp is the --relay-addr relay.
internal enum OutputKind
{
    Smtp,
    Slack,
    Discord,
    Teams,
    PagerDuty,
    Twilio,
    Webhook,
    Irc,
}
