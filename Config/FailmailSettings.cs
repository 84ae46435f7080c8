using System.CommandLine;

namespace Failmail.Config;

// Every failmail setting (../shared/failmail-spec.md §1), in --write-config order: failmail's
// own first, then ours. Each is a flag under failmail's name and a config-file key (Setting:
// one source for parsing, --help and --write-config); FailmailCommand adds the flags to the
// root command and reads one typed option itself (Version).
internal sealed class FailmailSettings
{
    private readonly List<Setting> _all = [];

    public FailmailSettings()
    {
        var d = new FailmailOptions();

        // failmail's --write-config order (§1.5, subject_prefix from the fork), then ours.
        Add(Setting.String("bind-addr", "local bind address", d, o => o.BindAddr, (o, v) => o with { BindAddr = v }));
        Add(Setting.Int32("socket-fd", "file descriptor of socket to listen on", d, o => o.SocketFd, (o, v) => o with { SocketFd = v }));
        Add(Setting.String("credentials", "username:password for authenticating to failmail", d, o => o.Credentials, (o, v) => o with { Credentials = v }));
        Add(Setting.String("tls-cert", "PEM certificate file for TLS", d, o => o.TlsCert, (o, v) => o with { TlsCert = v }));
        Add(Setting.String("tls-key", "PEM key file for TLS", d, o => o.TlsKey, (o, v) => o with { TlsKey = v }));
        Add(Setting.Bool("ssl", "enable TLS immediately (disables STARTTLS)", d, o => o.Ssl, (o, v) => o with { Ssl = v }));
        Add(Setting.Duration("shutdown-timeout", "wait this long for open connections to finish when shutting down or reloading", d, o => o.ShutdownTimeout, (o, v) => o with { ShutdownTimeout = v }));
        Add(Setting.Bool("debug-receiver", "log traffic sent to and from downstream connections", d, o => o.DebugReceiver, (o, v) => o with { DebugReceiver = v }));
        Add(Setting.String("rewrite-src", "pattern to match on recipients for address rewriting", d, o => o.RewriteSrc, (o, v) => o with { RewriteSrc = v }));
        Add(Setting.String("rewrite-dest", "rewrite matching recipients to this address", d, o => o.RewriteDest, (o, v) => o with { RewriteDest = v }));
        Add(Setting.Bool("allow-unencrypted-auth", "allow non-hashed authentication over unencrypted connections", d, o => o.AllowUnencryptedAuth, (o, v) => o with { AllowUnencryptedAuth = v }));
        Add(Setting.Bool("memory-store", "store messages in memory instead of an on-disk maildir", d, o => o.MemoryStore, (o, v) => o with { MemoryStore = v }));
        Add(Setting.String("message-store", "use this directory as a maildir for holding received messages", d, o => o.MessageStore, (o, v) => o with { MessageStore = v }));
        Add(Setting.String("from", "from address", d, o => o.From, (o, v) => o with { From = v }));
        Add(Setting.String("subject-prefix", "summary subject prefix", d, o => o.SubjectPrefix, (o, v) => o with { SubjectPrefix = v }));
        Add(Setting.Duration("wait-period", "wait this long for more batchable messages", d, o => o.WaitPeriod, (o, v) => o with { WaitPeriod = v }));
        Add(Setting.Duration("max-wait", "wait at most this long from first message to send summary", d, o => o.MaxWait, (o, v) => o with { MaxWait = v }));
        Add(Setting.Duration("poll", "check the store for new messages this frequently", d, o => o.Poll, (o, v) => o with { Poll = v }));
        Add(Setting.String("batch-expr", "an expression used to determine how messages are batched into summary emails", d, o => o.BatchExpr, (o, v) => o with { BatchExpr = v }));
        Add(Setting.String("group-expr", "an expression used to determine how messages are grouped within summary emails", d, o => o.GroupExpr, (o, v) => o with { GroupExpr = v }));
        Add(Setting.String("template", "path to a summary message template file", d, o => o.Template, (o, v) => o with { Template = v }));
        Add(Setting.String("relay-addr", "upstream relay server address", d, o => o.RelayAddr, (o, v) => o with { RelayAddr = v }));
        Add(Setting.String("relay-user", "username for auth to relay server", d, o => o.RelayUser, (o, v) => o with { RelayUser = v }));
        Add(Setting.String("relay-password", "password for auth to relay server", d, o => o.RelayPassword, (o, v) => o with { RelayPassword = v }));
        Add(Setting.String("fail-dir", "write failed sends to this maildir", d, o => o.FailDir, (o, v) => o with { FailDir = v }));
        Add(Setting.String("all-dir", "write all sends to this maildir", d, o => o.AllDir, (o, v) => o with { AllDir = v }));
        Add(Setting.Bool("receiver", "receive and store incoming messages (without --receiver or --sender, both run)", d, o => o.Receiver, (o, v) => o with { Receiver = v }));
        Add(Setting.Bool("sender", "summarize and send messages (without --receiver or --sender, both run)", d, o => o.Sender, (o, v) => o with { Sender = v }));
        Add(Setting.String("bind-http", "local bind address for the HTTP server", d, o => o.BindHttp, (o, v) => o with { BindHttp = v }));
        Add(Setting.String("pidfile", "write a pidfile to this path", d, o => o.Pidfile, (o, v) => o with { Pidfile = v }));
        // A setting only so that --write-config writes failmail's `version = false` line and a
        // failmail file holding it still loads; in a file it is checked and then ignored
        // (failmail printed the version on every start when a file said true).
        Version = Add(Setting.Bool("version", "show the version number and exit", d, _ => false, (o, _) => o));

        Add(Setting.Bool("relay-all", "relay all messages to the upstream server as well as summarizing them", d, o => o.RelayAll, (o, v) => o with { RelayAll = v }));
        Add(Setting.Int64("max-message-size", "largest message accepted, in bytes (SMTP SIZE)", d, o => o.MaxMessageSize, (o, v) => o with { MaxMessageSize = v }));
        Add(Setting.Int32("max-command-line", "longest SMTP command line accepted, in bytes including CRLF (at least 512)", d, o => o.MaxCommandLine, (o, v) => o with { MaxCommandLine = v }));
        Add(Setting.Int32("max-recipients", "most recipients accepted per message", d, o => o.MaxRecipients, (o, v) => o with { MaxRecipients = v }));
        Add(Setting.Int32("max-connections", "most SMTP connections served at once", d, o => o.MaxConnections, (o, v) => o with { MaxConnections = v }));
        Add(Setting.Duration("command-timeout", "close an SMTP connection that sends no complete command for this long", d, o => o.CommandTimeout, (o, v) => o with { CommandTimeout = v }));
        Add(Setting.Duration("data-timeout", "close an SMTP connection whose message data takes longer than this", d, o => o.DataTimeout, (o, v) => o with { DataTimeout = v }));
        Add(Setting.String("queue-dir", "maildir holding summaries waiting for a relay retry", d, o => o.QueueDir, (o, v) => o with { QueueDir = v }));
        Add(Setting.Duration("retry-min", "first delay before retrying a failed relay", d, o => o.RetryMin, (o, v) => o with { RetryMin = v }));
        Add(Setting.Duration("retry-max", "longest delay between relay retries", d, o => o.RetryMax, (o, v) => o with { RetryMax = v }));
        Add(Setting.Duration("queue-lifetime", "give up retrying a summary after this long and move it to the fail-dir", d, o => o.QueueLifetime, (o, v) => o with { QueueLifetime = v }));
        Add(Setting.Duration("relay-timeout", "time limit for each relay connect, command and message transfer", d, o => o.RelayTimeout, (o, v) => o with { RelayTimeout = v }));
        Add(Setting.Bool("log-json", "write each log line as a JSON object", d, o => o.LogJson, (o, v) => o with { LogJson = v }));
        Add(Setting.String("relay-ca-file", "PEM file of the CAs trusted for the relay's certificate, instead of the system roots", d, o => o.RelayCaFile, (o, v) => o with { RelayCaFile = v }));
        Add(Setting.String("relay-fingerprint", "accept only the relay certificate with this hex SHA-256 (colons optional; several separated by commas)", d, o => o.RelayFingerprint, (o, v) => o with { RelayFingerprint = v }));
        Add(Setting.Bool("relay-insecure", "accept any relay certificate (unsafe; for tests only)", d, o => o.RelayInsecure, (o, v) => o with { RelayInsecure = v }));
        Add(Setting.String("relay-auth-mechanisms", "comma-separated SASL mechanisms allowed for relay AUTH, e.g. PLAIN,LOGIN; empty allows any that MailKit supports", d, o => o.RelayAuthMechanisms, (o, v) => o with { RelayAuthMechanisms = v }));
        Add(Setting.String("relay-password-file", "read the relay password from the first line of this file", d, o => o.RelayPasswordFile, (o, v) => o with { RelayPasswordFile = v }));
        Add(Setting.String("qualify-domain", "domain added to bare local names such as root (empty: the host's fully qualified name)", d, o => o.QualifyDomain, (o, v) => o with { QualifyDomain = v }));
        Add(Setting.String("quarantine-dir", "maildir for messages that could not be batched or digested, with the reason (`failmail resend quarantine` puts them back)", d, o => o.QuarantineDir, (o, v) => o with { QuarantineDir = v }));
        Add(Setting.String("spool-dir", "where `failmail sendmail` leaves messages while the daemon is down (any local user may submit, none may read another's); the daemon creates and imports it", d, o => o.SpoolDir, (o, v) => o with { SpoolDir = v }));
        Add(Setting.String("aliases", "aliases file in /etc/aliases format for local recipients", d, o => o.Aliases, (o, v) => o with { Aliases = v }));
        Add(Setting.String("sender-canonical", "canonical map file for sender addresses (Postfix sender_canonical_maps)", d, o => o.SenderCanonical, (o, v) => o with { SenderCanonical = v }));
        Add(Setting.String("recipient-canonical", "canonical map file for recipient addresses (Postfix recipient_canonical_maps)", d, o => o.RecipientCanonical, (o, v) => o with { RecipientCanonical = v }));
        Add(Setting.String("sender-canonical-static", "rewrite every sender address not in --sender-canonical to this address", d, o => o.SenderCanonicalStatic, (o, v) => o with { SenderCanonicalStatic = v }));
        Add(Setting.String("recipient-canonical-static", "rewrite every recipient address not in --recipient-canonical to this address", d, o => o.RecipientCanonicalStatic, (o, v) => o with { RecipientCanonicalStatic = v }));
        Add(Setting.String("canonical-scope", "where canonical maps apply: envelope, headers or both", d, o => o.CanonicalScope, (o, v) => o with { CanonicalScope = v }));
        Add(Setting.String("masquerade-domains", "comma-separated domains whose subdomains are stripped from addresses", d, o => o.MasqueradeDomains, (o, v) => o with { MasqueradeDomains = v }));
        Add(Setting.String("force-from", "force this envelope sender and From header on every received message", d, o => o.ForceFrom, (o, v) => o with { ForceFrom = v }));
        Add(Setting.String("reply-to", "add this Reply-To header to received messages that have none, and to every digest", d, o => o.ReplyTo, (o, v) => o with { ReplyTo = v }));
        Add(Setting.ByteSize("max-digest-size", "largest digest, in bytes (k and M suffixes allowed); groups past it are listed one line each, then summed", d, o => o.MaxDigestSize, (o, v) => o with { MaxDigestSize = v }));
        Add(Setting.Int32("max-digest-groups", "most groups shown in full in one digest; the rest are listed one line each, then summed", d, o => o.MaxDigestGroups, (o, v) => o with { MaxDigestGroups = v }));
        Add(Setting.Bool("group-normalize", "group messages whose subjects differ only in numbers, addresses, ids, dates and durations; the digest shows the normalised subject with examples", d, o => o.GroupNormalize, (o, v) => o with { GroupNormalize = v }));
        Add(Setting.Bool("digest-json", "attach a machine-readable part (groups, counts, hosts, first/last seen) to each digest, for a hub with --merge-digests", d, o => o.DigestJson, (o, v) => o with { DigestJson = v }));
        Add(Setting.Bool("merge-digests", "fold digests from spokes with --digest-json into this failmail's batches by group key, summing counts; others pass through", d, o => o.MergeDigests, (o, v) => o with { MergeDigests = v }));
        Add(Setting.Bool("show-hosts", "list each group's sending hosts (EHLO name, address or sender domain) with their counts in the digest", d, o => o.ShowHosts, (o, v) => o with { ShowHosts = v }));
        Add(Setting.Duration("first-wait", "send the first digest of a batch this long after its first message, without waiting for quiet (0: off)", d, o => o.FirstWait, (o, v) => o with { FirstWait = v }));
        Add(Setting.Duration("follow-up-interval", "after a digest for a batch, wait at least this long before the next one for it (0: off)", d, o => o.FollowUpInterval, (o, v) => o with { FollowUpInterval = v }));
        Add(Setting.Int32("page-threshold", "send one short notice to --page-to when more than this many messages for one batch arrive within --page-window (0: off)", d, o => o.PageThreshold, (o, v) => o with { PageThreshold = v }));
        Add(Setting.Duration("page-window", "the window --page-threshold counts over", d, o => o.PageWindow, (o, v) => o with { PageWindow = v }));
        Add(Setting.String("page-to", "address for the --page-threshold notice", d, o => o.PageTo, (o, v) => o with { PageTo = v }));
        Add(Setting.Int32("history-size", "digests kept in the history the API and console show (--history-dir)", d, o => o.HistorySize, (o, v) => o with { HistorySize = v }));
        Add(Setting.String("history-dir", "directory holding the digest history (kept across restarts; memory only with --memory-store)", d, o => o.HistoryDir, (o, v) => o with { HistoryDir = v }));
        Add(Setting.String("silences-file", "file holding the silences made through the API, console or `failmail ctl silence`", d, o => o.SilencesFile, (o, v) => o with { SilencesFile = v }));
        Add(Setting.String("http-token-file", "file whose first line is the bearer token the API and console require (needed when --bind-http is not loopback)", d, o => o.HttpTokenFile, (o, v) => o with { HttpTokenFile = v }));
        Add(Setting.String("http-tls-cert", "PEM certificate file: serve --bind-http over HTTPS", d, o => o.HttpTlsCert, (o, v) => o with { HttpTlsCert = v }));
        Add(Setting.String("http-tls-key", "PEM key file for --http-tls-cert", d, o => o.HttpTlsKey, (o, v) => o with { HttpTlsKey = v }));
        Add(Setting.String("transport-map", "file mapping digest recipients to outputs (smtp, slack+URL, discord+URL, teams+URL, pagerduty:KEY, twilio+URL, webhook+URL, irc://), one `PATTERN TARGET[, TARGET...]` per line", d, o => o.TransportMap, (o, v) => o with { TransportMap = v }));
        Add(Setting.String("local-domains", "comma-separated domains whose addresses are local names that go through --aliases (empty: the short host name and the FQDN); localhost and --qualify-domain always are", d, o => o.LocalDomains, (o, v) => o with { LocalDomains = v }));
        Add(Setting.Bool("master", "stay as a master that holds the listening sockets and runs failmail as its worker: a reload starts a new worker and keeps this pid (for supervisord and runit)", d, o => o.Master, (o, v) => o with { Master = v }));
        Add(Setting.String("allow-from", "comma-separated client networks (CIDR) allowed to send; others get 554 at connect, or must AUTH when --credentials is set (empty: every client)", d, o => o.AllowFrom, (o, v) => o with { AllowFrom = v }));
    }

    public Option<bool> Version { get; }

    // Other names a flag answers to on the command line (not in files): Go failmail's README
    // spells --bind, --relay and --wait, which its code never defined (spec §1.9), so
    // command lines copied from it, such as its supervisord example, work verbatim here.
    public static IReadOnlyDictionary<string, string> Aliases { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["bind"] = "bind-addr",
        ["relay"] = "relay-addr",
        ["wait"] = "wait-period",
    };

    // In --write-config order.
    public IReadOnlyList<Setting> All => _all;

    private Option<T> Add<T>(Setting<T> setting)
    {
        _all.Add(setting);
        return setting.TypedOption;
    }
}
