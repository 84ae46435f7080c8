using System.Text;

namespace Failmail.Rewriting;

// One header field as received: its name, its unfolded value and its exact bytes.
internal sealed record HeaderField(string Name, string RawName, string Value, byte[] Raw)
{
    public static HeaderField Create(byte[] raw)
    {
        var colon = Array.IndexOf(raw, (byte)':');
        if (colon <= 0)
        {
            return new HeaderField("", "", "", raw);
        }
        var name = Encoding.ASCII.GetString(raw, 0, colon);
        if (name.Any(c => c <= ' ' || c > '~'))
        {
            return new HeaderField("", "", "", raw);
        }
        // Unfolded: the CRLFs of continuation lines are removed (RFC 5322 §2.2.3).
        var value = Encoding.UTF8.GetString(raw, colon + 1, raw.Length - colon - 1).Replace("\r\n", "", StringComparison.Ordinal).Trim();
        return new HeaderField(name.Trim(), name, value, raw);
    }
}
