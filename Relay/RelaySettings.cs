namespace Failmail.Relay;

// The relay's settings, parsed and checked in one place: --relay-addr into a RelayAddress
// (null for `debug`), --relay-fingerprint into pins, --relay-auth-mechanisms into a list,
// and every rule between them (OptionsValidator reports TryFrom's problems to the CLI).
// Pure: the files (--relay-password-file, --relay-ca-file) are read by RelayCredentials and
// RelayCertificatePolicy when the transport is built. The relay's parts take this record,
// not the whole FailmailOptions.
internal sealed record RelaySettings
{
    public RelayAddress? Address { get; init; }

    // "debug" or the smarthost's URL, for the start-up log line.
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
        RelayAddress? address = null;
        // With --relay-addr debug nothing is sent anywhere, so only each value's own form is checked.
        if (options.RelayAddr != RelayTransportFactory.Debug)
        {
            if (!RelayAddress.TryParse(options.RelayAddr, out var parsed, out var addressError))
            {
                problems.Add($"--relay-addr: {addressError}");
                return false;
            }
            address = parsed;
            CheckSmarthost(options, parsed, problems);
        }
        if (problems.Count > 0)
        {
            return false;
        }
        settings = new RelaySettings
        {
            Address = address,
            Name = address?.Url ?? RelayTransportFactory.Debug,
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

    // The smarthost's TLS and AUTH choices must agree with its address.
    private static void CheckSmarthost(FailmailOptions options, RelayAddress address, List<string> problems)
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
        if (address.Tls == RelayTlsMode.None)
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
