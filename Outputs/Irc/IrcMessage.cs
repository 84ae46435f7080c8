namespace Failmail.Outputs.Irc;

// One line from the server (RFC 2812 §2.3.1): [:prefix] COMMAND params [:trailing].
internal readonly record struct IrcMessage(string Prefix, string Command, IReadOnlyList<string> Parameters)
{
    public string Last => Parameters.Count > 0 ? Parameters[^1] : "";

    public static bool TryParse(string line, out IrcMessage message)
    {
        message = default;
        var rest = line.AsSpan().TrimEnd("\r\n");
        // IRCv3 message tags (@a=b ...) come first when a server sends them; we ask for none.
        if (rest.Length > 0 && rest[0] == '@')
        {
            var space = rest.IndexOf(' ');
            if (space < 0)
            {
                return false;
            }
            rest = rest[(space + 1)..].TrimStart(' ');
        }
        var prefix = "";
        if (rest.Length > 0 && rest[0] == ':')
        {
            var space = rest.IndexOf(' ');
            if (space < 0)
            {
                return false;
            }
            prefix = rest[1..space].ToString();
            rest = rest[(space + 1)..].TrimStart(' ');
        }
        var end = rest.IndexOf(' ');
        var command = (end < 0 ? rest : rest[..end]).ToString().ToUpperInvariant();
        if (command.Length == 0)
        {
            return false;
        }
        rest = end < 0 ? default : rest[(end + 1)..];
        var parameters = new List<string>();
        // RFC 2812 allows at most 15 parameters; the bound keeps a hostile line cheap.
        while (rest.Length > 0 && parameters.Count < 15)
        {
            if (rest[0] == ':')
            {
                parameters.Add(rest[1..].ToString());
                break;
            }
            var space = rest.IndexOf(' ');
            parameters.Add((space < 0 ? rest : rest[..space]).ToString());
            rest = space < 0 ? default : rest[(space + 1)..].TrimStart(' ');
        }
        message = new IrcMessage(prefix, command, parameters);
        return true;
    }
}
