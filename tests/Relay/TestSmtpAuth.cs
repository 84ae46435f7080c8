using System.Text;

namespace Failmail.Tests.Relay;

// TestSmtpServer's AUTH (RFC 4954): PLAIN and LOGIN, and CRAM-MD5 (RFC 2195) when the
// advertised mechanisms include it, against one user and password.
internal sealed class TestSmtpAuth
{
    private readonly string _user;
    private readonly string? _password;
    private readonly string _mechanisms;
    private int _failures;
    private int _nonce;

    public TestSmtpAuth(string user, string? password, string mechanisms)
    {
        _user = user;
        _password = password;
        _mechanisms = mechanisms;
    }

    public int Failures => Volatile.Read(ref _failures);

    // One AUTH command (its arguments after the verb), with its challenges; returns
    // "user MECHANISM" on success, null after a failure reply.
    public async Task<string?> AuthenticateAsync(string arguments, TestSmtpLines lines, CancellationToken token)
    {
        var parts = arguments.Split(' ', 2);
        string user;
        string password;
        if (parts[0].Equals("PLAIN", StringComparison.OrdinalIgnoreCase))
        {
            var response = parts.Length > 1 ? parts[1] : await ChallengeAsync("", lines, token);
            var fields = Encoding.UTF8.GetString(Convert.FromBase64String(response)).Split('\0');
            user = fields.Length == 3 ? fields[1] : "";
            password = fields.Length == 3 ? fields[2] : "";
        }
        else if (parts[0].Equals("LOGIN", StringComparison.OrdinalIgnoreCase))
        {
            var first = parts.Length > 1 ? parts[1] : await ChallengeAsync("VXNlcm5hbWU6", lines, token);
            user = Encoding.UTF8.GetString(Convert.FromBase64String(first));
            password = Encoding.UTF8.GetString(Convert.FromBase64String(await ChallengeAsync("UGFzc3dvcmQ6", lines, token)));
        }
        else if (parts[0].Equals("CRAM-MD5", StringComparison.OrdinalIgnoreCase) && _mechanisms.Contains("CRAM-MD5", StringComparison.Ordinal))
        {
            // RFC 2195: the client proves the password with HMAC-MD5 over our challenge.
            var challenge = $"<{Interlocked.Increment(ref _nonce)}.{Environment.ProcessId}@test>";
            var response = Encoding.UTF8.GetString(Convert.FromBase64String(
                await ChallengeAsync(Convert.ToBase64String(Encoding.ASCII.GetBytes(challenge)), lines, token)));
            var space = response.LastIndexOf(' ');
            user = space < 0 ? "" : response[..space];
#pragma warning disable CA5351 // CRAM-MD5 is defined on MD5; this is the test peer of MailKit's client.
            var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACMD5.HashData(Encoding.UTF8.GetBytes(_password ?? ""), Encoding.ASCII.GetBytes(challenge)));
#pragma warning restore CA5351
            password = space >= 0 && response[(space + 1)..] == expected ? _password ?? "" : "\0wrong";
        }
        else
        {
            await lines.ReplyAsync("504 5.5.4 unrecognized mechanism", token);
            return null;
        }
        if (user == _user && password == _password)
        {
            await lines.ReplyAsync("235 2.7.0 authenticated", token);
            return user + " " + parts[0].ToUpperInvariant();
        }
        Interlocked.Increment(ref _failures);
        await lines.ReplyAsync("535 5.7.8 authentication failed", token);
        return null;
    }

    private static async Task<string> ChallengeAsync(string challenge, TestSmtpLines lines, CancellationToken token)
    {
        await lines.ReplyAsync("334 " + challenge, token);
        var line = await lines.ReadLineAsync(token) ?? throw new IOException("client went away during AUTH");
        return Encoding.ASCII.GetString(line);
    }
}
