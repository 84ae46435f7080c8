using System.Security.Cryptography;
using System.Text;

namespace Failmail.Smtp;

// The AUTH exchange of one session (RFC 4954) for PLAIN (RFC 4616) and LOGIN, against the
// single --credentials pair. Pure: the session decides whether AUTH may start at all, the
// connection applies the delay after a failure.
internal sealed class SmtpAuthenticator
{
    private enum Step
    {
        None,
        PlainResponse,
        LoginUser,
        LoginPassword,
    }

    private readonly SmtpCredentials _expected;
    private Step _step;
    private byte[] _loginUser = [];

    public SmtpAuthenticator(SmtpCredentials expected) => _expected = expected;

    public bool Authenticated { get; private set; }
    public int Failures { get; private set; }
    public bool ExpectsResponse => _step != Step.None;

    public void Reset()
    {
        Authenticated = false;
        Cancel();
    }

    // Ends an open exchange without a verdict: the next line is a command again.
    public void Cancel()
    {
        _step = Step.None;
        _loginUser = [];
    }

    // mechanism is upper case; initial is the initial response, or null when absent.
    public SmtpReply Start(string mechanism, string? initial)
    {
        switch (mechanism)
        {
            case "PLAIN":
                if (initial is null)
                {
                    _step = Step.PlainResponse;
                    return new SmtpReply(334, "");
                }
                return CheckPlain(initial);
            case "LOGIN":
                if (initial is null)
                {
                    _step = Step.LoginUser;
                    return new SmtpReply(334, "VXNlcm5hbWU6"); // "Username:"
                }
                return LoginUser(initial);
            default:
                return SmtpReply.UnknownMechanism;
        }
    }

    // The client's line after a 334 challenge, without its CRLF.
    public SmtpReply Respond(ReadOnlySpan<byte> line)
    {
        var step = _step;
        _step = Step.None;
        var text = Encoding.ASCII.GetString(line.Trim(" \t"u8));
        if (text == "*")
        {
            return SmtpReply.AuthCancelled;
        }
        return step switch
        {
            Step.PlainResponse => CheckPlain(text),
            Step.LoginUser => LoginUser(text),
            Step.LoginPassword => CheckLogin(text),
            _ => SmtpReply.BadSequence,
        };
    }

    private SmtpReply LoginUser(string base64)
    {
        if (!TryDecode(base64, out var user))
        {
            return SmtpReply.BadBase64;
        }
        _loginUser = user;
        _step = Step.LoginPassword;
        return new SmtpReply(334, "UGFzc3dvcmQ6"); // "Password:"
    }

    private SmtpReply CheckLogin(string base64) =>
        TryDecode(base64, out var password) ? Verify(_loginUser, password) : SmtpReply.BadBase64;

    // RFC 4616: authzid NUL authcid NUL passwd; an authzid other than the user is refused.
    private SmtpReply CheckPlain(string base64)
    {
        if (!TryDecode(base64, out var decoded))
        {
            return SmtpReply.BadBase64;
        }
        var span = decoded.AsSpan();
        var first = span.IndexOf((byte)0);
        var second = first < 0 ? -1 : span[(first + 1)..].IndexOf((byte)0);
        if (first < 0 || second < 0 || span[(first + 1 + second + 1)..].Contains((byte)0))
        {
            return SmtpReply.BadCredentialsFormat;
        }
        var authzid = span[..first];
        var user = span.Slice(first + 1, second);
        var password = span[(first + 1 + second + 1)..];
        if (!authzid.IsEmpty && !authzid.SequenceEqual(user))
        {
            return Failed();
        }
        return Verify(user, password);
    }

    private SmtpReply Verify(ReadOnlySpan<byte> user, ReadOnlySpan<byte> password)
    {
        // Both compared in constant time, so timing tells nothing about which one was wrong.
        var userOk = CryptographicOperations.FixedTimeEquals(user, Encoding.UTF8.GetBytes(_expected.User));
        var passwordOk = CryptographicOperations.FixedTimeEquals(password, Encoding.UTF8.GetBytes(_expected.Password));
        if (userOk && passwordOk)
        {
            Authenticated = true;
            return SmtpReply.AuthSucceeded;
        }
        return Failed();
    }

    private SmtpReply Failed()
    {
        Failures++;
        return Failures >= SmtpLimits.MaxAuthFailures ? SmtpReply.TooManyAuthFailures : SmtpReply.AuthFailed;
    }

    private static bool TryDecode(string base64, out byte[] bytes)
    {
        // RFC 4954 §4: "=" is an empty initial response.
        if (base64 == "=")
        {
            bytes = [];
            return true;
        }
        bytes = new byte[base64.Length];
        if (Convert.TryFromBase64String(base64, bytes, out var written))
        {
            bytes = bytes[..written];
            return true;
        }
        return false;
    }
}
