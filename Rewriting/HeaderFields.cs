namespace Failmail.Rewriting;

// Splits a header section (CRLF line ends, no blank line) into fields: a line plus the
// continuation lines that start with SP or HTAB (RFC 5322 §2.2.3). Lines that are not
// fields (no colon) are kept as fields with an empty name, so nothing is ever dropped.
internal static class HeaderFields
{
    public static IReadOnlyList<HeaderField> Split(ReadOnlySpan<byte> section)
    {
        var fields = new List<HeaderField>();
        foreach (var range in Ranges(section))
        {
            fields.Add(HeaderField.Create(section[range].ToArray()));
        }
        return fields;
    }

    // Where each field lies in the section, for callers that look at only a few of them.
    public static List<Range> Ranges(ReadOnlySpan<byte> section)
    {
        var ranges = new List<Range>();
        var start = 0;
        var i = 0;
        while (i < section.Length)
        {
            var lf = section[i..].IndexOf((byte)'\n');
            var next = lf < 0 ? section.Length : i + lf + 1;
            var continues = next < section.Length && section[next] is (byte)' ' or (byte)'\t';
            if (!continues)
            {
                ranges.Add(start..next);
                start = next;
            }
            i = next;
        }
        return ranges;
    }
}
