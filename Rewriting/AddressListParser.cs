using MimeKit;

namespace Failmail.Rewriting;

// Parses an address header (To, Cc, From...) the way Postfix and sendmail read it: every
// comma outside quotes, comments, angle brackets and groups separates two addresses.
// MimeKit alone is lenient towards Outlook's unquoted "Last, First <x@y>" and reads
// `root, "Web" <w@x>` as one mailbox named "root, Web", which would lose root's copy of
// a cron mail; here that is two addresses, root and w@x.
internal static class AddressListParser
{
    public static bool TryParse(string value, out InternetAddressList list)
    {
        list = [];
        foreach (var item in SplitTopLevel(value))
        {
            if (string.IsNullOrWhiteSpace(item))
            {
                continue;
            }
            if (!InternetAddressList.TryParse(ParserOptions.Default, item, out var part))
            {
                return false;
            }
            list.AddRange(part);
        }
        return true;
    }

    // Splits at top-level commas. A group ("team: a, b;") stays one item, and an unbalanced
    // quote or bracket makes the rest of the value one item, for MimeKit to judge.
    internal static List<string> SplitTopLevel(string value)
    {
        var items = new List<string>();
        var start = 0;
        var comment = 0;
        var inQuote = false;
        var inAngle = false;
        var inLiteral = false;
        var inGroup = false;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\\' && (inQuote || comment > 0 || inLiteral))
            {
                i++; // The escaped character is taken as it is.
                continue;
            }
            if (inQuote)
            {
                inQuote = c != '"';
            }
            else if (comment > 0)
            {
                comment += c == '(' ? 1 : c == ')' ? -1 : 0;
            }
            else if (inLiteral)
            {
                inLiteral = c != ']';
            }
            else if (inAngle)
            {
                inAngle = c != '>';
            }
            else
            {
                switch (c)
                {
                    case '"': inQuote = true; break;
                    case '(': comment = 1; break;
                    case '[': inLiteral = true; break;
                    case '<': inAngle = true; break;
                    case ':': inGroup = true; break;
                    case ';': inGroup = false; break;
                    case ',' when !inGroup:
                        items.Add(value[start..i]);
                        start = i + 1;
                        break;
                }
            }
        }
        items.Add(value[start..]);
        return items;
    }
}
