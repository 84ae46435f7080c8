using MailKit.Security;

namespace Failmail.Relay;

// AUTH towards the relay (RFC 4954): --relay-user with --relay-password or the first line of
// --relay-password-file (which keeps the secret out of the process list). MailKit negotiates
// the strongest SASL mechanism both sides support (SCRAM-*, CRAM-MD5, PLAIN, LOGIN, ...);
// --relay-auth-mechanisms narrows that to an allow-list.
internal sealed record RelayCredentials(string User, string Password, IReadOnlyList<string>? Mechanisms)
{
    // null when no AUTH is wanted. Reads the password file once, at start-up; throws
    // IOException naming the flag when it cannot.
    public static RelayCredentials? Load(FailmailOptions options) => Load(RelaySettings.From(options));

    public static RelayCredentials? Load(RelaySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var password = settings.PasswordFile.Length > 0 ? ReadPasswordFile(settings.PasswordFile) : settings.Password;
        if (settings.User.Length == 0 && password.Length == 0)
        {
            return null;
        }
        return new RelayCredentials(settings.User, password, settings.Mechanisms);
    }

    // "PLAIN, login" → ["PLAIN", "LOGIN"]. Only mechanisms MailKit can negotiate with a user
    // name and password are accepted, so an allow-list can never silently match nothing.
    public static bool TryParseMechanisms(string value, out IReadOnlyList<string> mechanisms, out string error)
    {
        var list = new List<string>();
        mechanisms = list;
        error = "";
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
        {
            var name = part.ToUpperInvariant();
            if (!Supported.Contains(name, StringComparer.Ordinal))
            {
                error = $"'{part}' is not a SASL mechanism failmail can use (one of {string.Join(", ", Supported)})";
                return false;
            }
            if (!list.Contains(name))
            {
                list.Add(name);
            }
        }
        return true;
    }

    // The mechanisms MailKit's AuthenticateAsync(user, password) negotiates, strongest first
    // (its SaslMechanism ranking, which is internal). OAUTHBEARER, XOAUTH2 and ANONYMOUS take
    // no password, so they are not offered here.
    public static IReadOnlyList<string> Supported { get; } = new[]
    {
        "SCRAM-SHA-512-PLUS", "SCRAM-SHA-512", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1",
        "NTLM", "DIGEST-MD5", "CRAM-MD5", "PLAIN", "LOGIN",
    }.Where(SaslMechanism.IsSupported).ToList();

    // Would MailKit try any of these?
    public static bool AnyUsable(IEnumerable<string> offered) =>
        offered.Any(m => Supported.Contains(m, StringComparer.OrdinalIgnoreCase));

    // The first line, without its line ending: `echo secret > file` and editors' final
    // newline must not become part of the password.
    private static string ReadPasswordFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"--relay-password-file {path}: {RelayCertificatePolicy.Reason(e)}", e);
        }
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        var line = newline < 0 ? text : text[..newline];
        line = line.TrimEnd('\r');
        if (line.Length == 0)
        {
            throw new IOException($"--relay-password-file {path}: the first line (the password) is empty");
        }
        return line;
    }

    // Never the password, even in a debugger or an accidental interpolation.
    public override string ToString() => $"RelayCredentials {{ User = {User}, Mechanisms = {(Mechanisms is null ? "any" : string.Join(",", Mechanisms))} }}";
}
