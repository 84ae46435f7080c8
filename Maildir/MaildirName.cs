using System.Globalization;
using System.Text;

namespace Failmail.Maildir;

// Unique file names, failmail's shape (spec §3.1) `<unix-seconds>.<pid>_<n>.<hostname>`
// with n = `<counter>R<random>`: the random part is drawn once per store, so a restarted
// process that gets the same pid within the same second never reuses a name.
internal sealed class MaildirName
{
    // Maildir flags: failmail delivered straight into cur/ flagged Seen; ids keep that form.
    public const string InfoSuffix = ":2,S";

    private readonly string _suffix;
    private readonly string _random;
    private long _counter;

    public MaildirName()
    {
        // Uniqueness, not secrecy: a v4 Guid's bits come from the kernel (getrandom), while
        // RandomNumberGenerator loads OpenSSL (~3.5 MB of RSS and ~5 ms at start-up).
        Span<byte> random = stackalloc byte[16];
        _ = Guid.NewGuid().TryWriteBytes(random);
        _random = Convert.ToHexStringLower(random[..4]);
        _suffix = "." + EscapeHost(Environment.MachineName);
    }

    public string Next(DateTimeOffset now)
    {
        var n = Interlocked.Increment(ref _counter);
        return string.Create(CultureInfo.InvariantCulture,
            $"{now.ToUnixTimeSeconds()}.{Environment.ProcessId}_{n}R{_random}{_suffix}");
    }

    // A stored id is a plain file name: anything that could leave the directory is refused.
    public static bool IsValidId(string id) =>
        id.Length > 0 && id != "." && id != ".." && id.IndexOf('/') < 0 && id.IndexOf('\0') < 0;

    // The Maildir convention (cr.yp.to/proto/maildir.html): '/' and ':' cannot appear in
    // the host part; failmail did not escape them (spec §3.1).
    private static string EscapeHost(string host)
    {
        if (host.Length == 0)
        {
            return "localhost";
        }
        var sb = new StringBuilder(host.Length);
        foreach (var c in host)
        {
            sb.Append(c switch
            {
                '/' => "\\057",
                ':' => "\\072",
                _ => c.ToString(),
            });
        }
        return sb.ToString();
    }
}
