namespace Failmail.Relay;

// The relay's settings, parsed and checked in one place: --relay-addr into RelayAddresses
// (a comma-separated failover list, tried in order; none for `debug`), --relay-fingerprint into pins, --relay-auth-mechanisms into a list,
// and every rule between them (OptionsValidator reports TryFrom's problems to the CLI).
// Pure: the files (--relay-password-file, --relay-ca-file) are read by RelayCredentials and
// RelayCertificatePolicy when the transport is built. The relay's parts take this record,
// not the whole FailmailOptions.
internal sealed record RelaySettings
{
    // The first relay of the list (null for `debug`).
    public RelayAddress? Address { get; init; }

    // --relay-addr as a failover list (Postfix's smtp_fallback_relay, nullmailer's remotes):
    // tried in order, a failing one skipped for a backoff. Empty for `debug`.
    public IReadOnlyList<RelayAddress> Addresses { get; init; } = [];

    // "debug" or the smarthosts' URLs, for the start-up log line.
    public required string Name { get; init; }

    // --from: the digests' envelope sender.
    public required string Sender { get; init; }
    public required string FailDir { get; init; }
    public required string AllDir { get; init; }
    public required TimeSpan Poll { get; init; }
    public required TimeSpan ShutdownTimeout { get; init; }
    public required TimeSpan RetryMin { get; init; }
    public required TimeSpan RetryMax { get; init; }
    public required TimeSpan QueueLifetime { get; init; }
    public required TimeSpan Timeout { get; init; }

    // --max-digest-groups: a digest re-rendered smaller for the relay's SIZE keeps to it too.
    public required int MaxDigestGroups { get; init; }

    public required string User { get; init; }
    public required string Password { get; init; }
    public required string PasswordFile { get; init; }
    public IReadOnlyList<string>? Mechanisms { get; init; }

    public required IReadOnlyList<byte[]> Pins { get; init; }
    public required string CaFile { get; init; }
    public required bool Insecure { get; init; }

    public bool IsDebug => Address is null;

    // Throws ArgumentException with the first problem, one line naming its flag.
    public static RelaySettings From(FailmailOptions options) =>
        TryFrom(options, out var settings, out var problems) ? settings : throw new ArgumentException(problems[0]);

    public static bool TryFrom(FailmailOptions options, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RelaySettings? settings, out List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(options);
        settings = null;
        problems = [];
        IReadOnlyList<byte[]> pins = [];
        if (options.RelayFingerprint.Length > 0 && !RelayFingerprint.TryParse(options.RelayFingerprint, out pins, out var pinError))
        {
            problems.Add($"--relay-fingerprint: {pinError}");
        }
        IReadOnlyList<string>? mechanisms = null;
        if (options.RelayAuthMechanisms.Length > 0)
        {
            if (RelayCredentials.TryParseMechanisms(options.RelayAuthMechanisms, out var list, out var mechanismError))
            {
                mechanisms = list;
            }
            else
            {
                problems.Add($"--relay-auth-mechanisms: {mechanismError}");
            }
        }
        var addresses = new List<RelayAddress>();
        // With --relay-addr debug nothing is sent anywhere, so only each value's own form is checked.
        if (options.RelayAddr != RelayTransportFactory.Debug)
        {
            if (!TryParseList(options.RelayAddr, addresses, problems))
            {
                return false;
            }
            CheckSmarthost(options, addresses, problems);
        }
        if (problems.Count > 0)
        {
            return false;
        }
        settings = new RelaySettings
        {
            Address = addresses.Count > 0 ? addresses[0] : null,
            Addresses = addresses,
            Name = addresses.Count > 0 ? string.Join(", ", addresses.Select(a => a.Url)) : RelayTransportFactory.Debug,
            Sender = options.From,
            FailDir = options.FailDir,
            AllDir = options.AllDir,
            Poll = options.Poll,
            ShutdownTimeout = options.ShutdownTimeout,
            RetryMin = options.RetryMin,
            RetryMax = options.RetryMax,
            QueueLifetime = options.QueueLifetime,
            Timeout = options.RelayTimeout,
            MaxDigestGroups = options.MaxDigestGroups,
            User = options.RelayUser,
            Password = options.RelayPassword,
            PasswordFile = options.RelayPasswordFile,
            Mechanisms = mechanisms,
            Pins = pins,
            CaFile = options.RelayCaFile,
            Insecure = options.RelayInsecure,
        };
        return true;
    }

    // "a:25, smtps://b" → both addresses; each entry's problem is its own line. `debug` is a
    // mode, not a relay, so it cannot be one entry of a list.
    private static bool TryParseList(string value, List<RelayAddress> addresses, List<string> problems)
    {
        var before = problems.Count;
        var entries = value.Split(',', StringSplitOptions.TrimEntries);
        foreach (var entry in entries)
        {
            if (entries.Length > 1 && entry.Length == 0)
            {
                problems.Add($"--relay-addr: empty entry in the list '{value}'");
            }
            else if (entries.Length > 1 && string.Equals(entry, RelayTransportFactory.Debug, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add("--relay-addr: debug prints digests instead of relaying them and cannot be part of a relay list");
            }
            else if (!RelayAddress.TryParse(entry, out var parsed, out var error))
            {
                problems.Add($"--relay-addr: {error}");
            }
            else if (addresses.Contains(parsed))
            {
                problems.Add($"--relay-addr: {parsed.Url} is listed twice");
            }
            else
            {
                addresses.Add(parsed);
            }
        }
        return problems.Count == before;
    }

    // The smarthosts' TLS and AUTH choices must agree with their addresses.
    private static void CheckSmarthost(FailmailOptions options, List<RelayAddress> addresses, List<string> problems)
    {
        if (options.RelayPassword.Length > 0 && options.RelayPasswordFile.Length > 0)
        {
            problems.Add("--relay-password-file: give either --relay-password or --relay-password-file, not both");
        }
        if (options.RelayInsecure && (options.RelayFingerprint.Length > 0 || options.RelayCaFile.Length > 0))
        {
            problems.Add(options.RelayFingerprint.Length > 0
                ? "--relay-insecure: contradicts --relay-fingerprint (the pin already accepts a self-signed relay); drop one"
                : "--relay-insecure: contradicts --relay-ca-file; drop one");
        }
        foreach (var address in addresses.Where(a => a.Tls == RelayTlsMode.None))
        {
            foreach (var (flag, set) in new[] { ("relay-ca-file", options.RelayCaFile.Length > 0), ("relay-fingerprint", options.RelayFingerprint.Length > 0), ("relay-insecure", options.RelayInsecure) })
            {
                if (set)
                {
                    problems.Add($"--{flag}: {address.Url} never uses TLS (use smtp://, smtp+starttls:// or smtps://)");
                }
            }
            var hasCredentials = options.RelayUser.Length > 0 || options.RelayPassword.Length > 0 || options.RelayPasswordFile.Length > 0;
            if (hasCredentials && !address.IsLoopback)
            {
                problems.Add($"--relay-user: refusing to send credentials unencrypted to {address.Url} (smtp+plain:// allows AUTH only to loopback; use smtp+starttls:// or smtps://)");
            }
        }
    }
}
