namespace Failmail.Relay;

// The relay's own start-up checks on its settings, next to the parsers they use; the
// composition root's OptionsValidator asks for them. One line per problem, flag first.
internal static class RelayOptions
{
    // --relay-addr and the smarthost TLS/AUTH settings. The files (--relay-ca-file,
    // --relay-password-file) are read when the relay starts, which reports them the same way.
    // With --relay-addr debug nothing is sent anywhere, so only each value's own form is checked.
    public static IReadOnlyList<string> Problems(FailmailOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.RelayFingerprint.Length > 0 && !RelayFingerprint.TryParse(options.RelayFingerprint, out _, out var pinError))
        {
            errors.Add($"--relay-fingerprint: {pinError}");
        }
        if (options.RelayAuthMechanisms.Length > 0 && !RelayCredentials.TryParseMechanisms(options.RelayAuthMechanisms, out _, out var mechanismError))
        {
            errors.Add($"--relay-auth-mechanisms: {mechanismError}");
        }
        if (options.RelayAddr == RelayTransportFactory.Debug)
        {
            return errors;
        }
        if (!RelayAddress.TryParse(options.RelayAddr, out var address, out var addressError))
        {
            errors.Add($"--relay-addr: {addressError}");
            return errors;
        }
        if (options.RelayPassword.Length > 0 && options.RelayPasswordFile.Length > 0)
        {
            errors.Add("--relay-password-file: give either --relay-password or --relay-password-file, not both");
        }
        if (options.RelayInsecure && (options.RelayFingerprint.Length > 0 || options.RelayCaFile.Length > 0))
        {
            errors.Add(options.RelayFingerprint.Length > 0
                ? "--relay-insecure: contradicts --relay-fingerprint (the pin already accepts a self-signed relay); drop one"
                : "--relay-insecure: contradicts --relay-ca-file; drop one");
        }
        if (address.Tls == RelayTlsMode.None)
        {
            foreach (var (flag, set) in new[] { ("relay-ca-file", options.RelayCaFile.Length > 0), ("relay-fingerprint", options.RelayFingerprint.Length > 0), ("relay-insecure", options.RelayInsecure) })
            {
                if (set)
                {
                    errors.Add($"--{flag}: {address.Url} never uses TLS (use smtp://, smtp+starttls:// or smtps://)");
                }
            }
            var hasCredentials = options.RelayUser.Length > 0 || options.RelayPassword.Length > 0 || options.RelayPasswordFile.Length > 0;
            if (hasCredentials && !address.IsLoopback)
            {
                errors.Add($"--relay-user: refusing to send credentials unencrypted to {address.Url} (smtp+plain:// allows AUTH only to loopback; use smtp+starttls:// or smtps://)");
            }
        }
        return errors;
    }
}
