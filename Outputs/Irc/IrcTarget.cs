using System.Buffers;
using System.Globalization;

namespace Failmail.Outputs.Irc;

// Where an irc:// or ircs:// output posts: irc://nick[:password]@host[:port]/channel[?key=K].
// The channel is "#name" unless the URL gives '#' or '&' itself (as %23/%26). A password is
// used for SASL PLAIN (account = nick). Ports default to 6667, and 6697 for TLS.
internal sealed record IrcTarget(string Host, int Port, bool Tls, string Nick, string? Password, string Channel, string? ChannelKey)
{
    // RFC 2812 §2.3.1: a nickname is at most 9 characters there; servers allow more, so 30.
    public const int MaxNick = 30;
    private static readonly SearchValues<char> NotInChannel = SearchValues.Create(" ,\a\r\n\0:");
    private static readonly SearchValues<char> NotInKey = SearchValues.Create(" ,\r\n\0");
    public const int MaxChannel = 50;

    public override string ToString() => $"{(Tls ? "ircs" : "irc")}://{Nick}@{Host}:{Port.ToString(CultureInfo.InvariantCulture)}/{Channel}";

    public static bool TryParse(string url, out IrcTarget? target, out string error)
    {
        target = null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "irc" && uri.Scheme != "ircs"))
        {
            error = "not an irc:// or ircs:// URL";
            return false;
        }
        var tls = uri.Scheme == "ircs";
        var userInfo = uri.UserInfo;
        var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
        var nick = Uri.UnescapeDataString(colon >= 0 ? userInfo[..colon] : userInfo);
        var password = colon >= 0 ? Uri.UnescapeDataString(userInfo[(colon + 1)..]) : null;
        if (nick.Length == 0)
        {
            nick = "failmail";
        }
        if (nick.Length > MaxNick || !IsNick(nick))
        {
            error = $"bad IRC nick '{nick}'";
            return false;
        }
        var channel = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (channel.Length > 0 && channel[0] != '#' && channel[0] != '&')
        {
            channel = "#" + channel;
        }
        if (channel.Length < 2 || channel.Length > MaxChannel || channel.AsSpan(1).IndexOfAny(NotInChannel) >= 0)
        {
            error = $"bad IRC channel '{channel}' (irc://nick@host:port/channel)";
            return false;
        }
        string? key = null;
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && pair[..eq] == "key")
            {
                key = Uri.UnescapeDataString(pair[(eq + 1)..]);
            }
        }
        if (key is not null && (key.Length == 0 || key.AsSpan().IndexOfAny(NotInKey) >= 0))
        {
            error = "bad IRC channel key";
            return false;
        }
        if (password is not null && password.AsSpan().IndexOfAny("\r\n\0") >= 0)
        {
            error = "bad IRC password";
            return false;
        }
        var port = uri.IsDefaultPort || uri.Port <= 0 ? (tls ? 6697 : 6667) : uri.Port;
        target = new IrcTarget(uri.IdnHost, port, tls, nick, string.IsNullOrEmpty(password) ? null : password, channel, key);
        error = "";
        return true;
    }

    // RFC 2812 §2.3.1 nickname characters (letters, digits, special), not starting with a digit or '-'.
    private static bool IsNick(string nick)
    {
        if (char.IsAsciiDigit(nick[0]) || nick[0] == '-')
        {
            return false;
        }
        foreach (var c in nick)
        {
            if (!char.IsAsciiLetterOrDigit(c) && "-[]\\`_^{|}".IndexOf(c, StringComparison.Ordinal) < 0)
            {
                return false;
            }
        }
        return true;
    }
}
