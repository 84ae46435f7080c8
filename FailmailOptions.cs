namespace Failmail;

// The effective settings after defaults, --config and flags are merged. Immutable: every
// service takes what it needs from here at start-up. Names mirror failmail's flags
// (../shared/failmail-spec.md §1.1); the settings failmail lacked are marked "new".
internal sealed record FailmailOptions
{
    public string BindAddr { get; init; } = "localhost:2525";
    public int SocketFd { get; init; }
    public string Credentials { get; init; } = "";
    public string TlsCert { get; init; } = "";
    public string TlsKey { get; init; } = "";
    public bool Ssl { get; init; }
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public bool DebugReceiver { get; init; }
    public string RewriteSrc { get; init; } = "";
    public string RewriteDest { get; init; } = "";
    public bool AllowUnencryptedAuth { get; init; }
    public bool MemoryStore { get; init; }
    public string MessageStore { get; init; } = "incoming";
    public string From { get; init; } = DefaultFrom();
    public string SubjectPrefix { get; init; } = "[failmail]";
    public TimeSpan WaitPeriod { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan Poll { get; init; } = TimeSpan.FromSeconds(5);
    public string BatchExpr { get; init; } = "{{.Header.Get \"X-Failmail-Split\"}}";
    public string GroupExpr { get; init; } = "{{.Header.Get \"Subject\"}}";
    public string Template { get; init; } = "";
    public string RelayAddr { get; init; } = "localhost:25";
    public string RelayUser { get; init; } = "";
    public string RelayPassword { get; init; } = "";
    public bool RelayAll { get; init; }
    public string FailDir { get; init; } = "failed";
    public string AllDir { get; init; } = "";
    // New: messages that broke a stage after their 250 (issue 11), with the reason.
    public string QuarantineDir { get; init; } = "quarantine";

    // failmail ran nothing unless told; we run both halves unless one is named.
    public bool Receiver { get; init; }
    public bool Sender { get; init; }
    public bool RunReceiver => Receiver || !Sender;
    public bool RunSender => Sender || !Receiver;

    public string BindHttp { get; init; } = "localhost:8025";
    public string Pidfile { get; init; } = "";

    // New: SMTP limits, each with an RFC 5321 default.
    // §4.5.3.1.7 lets a server set its own message size limit; 10 MiB is ample for alerts.
    public long MaxMessageSize { get; init; } = 10 * 1024 * 1024;
    // §4.5.3.1.4: a command line is at most 512 octets including CRLF.
    public int MaxCommandLine { get; init; } = 512;
    // §4.5.3.1.8: a server must accept at least 100 recipients.
    public int MaxRecipients { get; init; } = 100;
    public int MaxConnections { get; init; } = 200;
    // §4.5.3.2.7: 5 minutes for a command; §4.5.3.2.6: 10 minutes for the end of DATA.
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan DataTimeout { get; init; } = TimeSpan.FromMinutes(10);

    // New: the durable outgoing queue and its retry policy (transient relay failures).
    public string QueueDir { get; init; } = "outgoing";
    public TimeSpan RetryMin { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan RetryMax { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan QueueLifetime { get; init; } = TimeSpan.FromDays(1);
    // New: bounds each relay connect, greeting, command and DATA.
    public TimeSpan RelayTimeout { get; init; } = TimeSpan.FromSeconds(60);

    // New: one JSON object per log line instead of the single-line text format.
    public bool LogJson { get; init; }

    // New: smarthost TLS and AUTH (docs/RELAY.md). The TLS mode is the --relay-addr scheme.
    public string RelayCaFile { get; init; } = "";
    public string RelayFingerprint { get; init; } = "";
    public bool RelayInsecure { get; init; }
    public string RelayAuthMechanisms { get; init; } = "";
    public string RelayPasswordFile { get; init; } = "";

    // New: the system-mail hub (Sendmail/, Rewriting/). Empty file/address settings are off.
    // "" means the host's fully qualified name (Rewriting/HostDomain).
    public string QualifyDomain { get; init; } = "";
    // Absolute, shared by the daemon and `failmail sendmail` run from any directory (issue 16).
    public string SpoolDir { get; init; } = "/var/spool/failmail";
    public string Aliases { get; init; } = "";
    public string SenderCanonical { get; init; } = "";
    public string RecipientCanonical { get; init; } = "";
    public string SenderCanonicalStatic { get; init; } = "";
    public string RecipientCanonicalStatic { get; init; } = "";
    public string CanonicalScope { get; init; } = "both";
    public string MasqueradeDomains { get; init; } = "";
    // Issue 16. "" means localhost, the short host name and the FQDN (Rewriting/LocalDomains).
    public string LocalDomains { get; init; } = "";
    // Issue 16: comma-separated CIDRs (Postfix's mynetworks); "" admits every client.
    public string AllowFrom { get; init; } = "";
    // Issue 16: keep this process as a master holding the sockets; failmail runs as its worker.
    public bool Master { get; init; }
    public string ForceFrom { get; init; } = "";
    public string ReplyTo { get; init; } = "";

    // New (issue 13): a digest's bounds. Groups are shown by count; past these, one line
    // each, then one "and N more groups (M messages)" line. The relay's SIZE bounds it too.
    public long MaxDigestSize { get; init; } = 2 * 1024 * 1024;
    public int MaxDigestGroups { get; init; } = 200;

    // New (issue 13): grouping by meaning, Alertmanager-style timing, hosts, the pager. All off
    // by default (failmail's behaviour).
    public bool GroupNormalize { get; init; }
    public bool ShowHosts { get; init; }
    public TimeSpan FirstWait { get; init; } = TimeSpan.Zero;
    public TimeSpan FollowUpInterval { get; init; } = TimeSpan.Zero;
    public int PageThreshold { get; init; }
    public TimeSpan PageWindow { get; init; } = TimeSpan.FromMinutes(1);
    public string PageTo { get; init; } = "";

    // New (issue 15): the API and console on --bind-http, silences and the digest history.
    public int HistorySize { get; init; } = 1000;
    public string HistoryDir { get; init; } = "history";
    public string SilencesFile { get; init; } = "silences.json";
    public string HttpTokenFile { get; init; } = "";
    public string HttpTlsCert { get; init; } = "";
    public string HttpTlsKey { get; init; } = "";

    // New (issue 16): --digest-json and --merge-digests, spokes and a hub.
    public bool DigestJson { get; init; }
    public bool MergeDigests { get; init; }
    // New (issue 14): Postfix-style map from digest recipients to outputs (Slack, PagerDuty,
    // ...) and/or smtp; "" sends every digest to the relay, as before.
    public string TransportMap { get; init; } = "";

    // failmail used the short host name, which is not a deliverable domain; the FQDN is.
    public static string DefaultFrom() => "failmail@" + FullyQualifiedHostName();

    // The OS host name, or "localhost" when there is none (failmail's fallback): the SMTP
    // greeting and the base of --qualify-domain.
    public static string HostName()
    {
        try
        {
            var host = System.Net.Dns.GetHostName();
            return string.IsNullOrEmpty(host) ? "localhost" : host;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return "localhost";
        }
    }

    // The host's fully qualified name when the resolver knows it within a second (/etc/hosts
    // usually answers at once), else HostName(): the default --from and --qualify-domain.
    // Looked up once per process; a start must never stall on a broken resolver.
    public static string FullyQualifiedHostName() => Fqdn.Value;

    private static readonly Lazy<string> Fqdn = new(LookUpFullyQualifiedHostName);

    private static string LookUpFullyQualifiedHostName()
    {
        var host = HostName();
        if (host == "localhost" || host.Contains('.', StringComparison.Ordinal))
        {
            return host;
        }
        try
        {
            var lookup = System.Net.Dns.GetHostEntryAsync(host);
            if (lookup.Wait(TimeSpan.FromSeconds(1)) && lookup.Result.HostName.Contains('.', StringComparison.Ordinal))
            {
                return lookup.Result.HostName;
            }
        }
        catch (AggregateException)
        {
            // No resolver answer: the short name it is.
        }
        return host;
    }
}
