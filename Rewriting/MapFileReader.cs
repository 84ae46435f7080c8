namespace Failmail.Rewriting;

// The line grammar shared by aliases(5) and Postfix's table files: `#` starts a comment
// line, blank lines are skipped, and a line that starts with whitespace continues the
// previous logical line. Each logical line carries the number of its first physical line,
// so an error names the line an operator has to fix.
internal static class MapFileReader
{
    public static IReadOnlyList<(int Line, string Text)> ReadLogicalLines(string path, IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var result = new List<(int Line, string Text)>();
        var number = 0;
        var startLine = 0;
        string? current = null;
        foreach (var raw in lines)
        {
            number++;
            var line = raw.TrimEnd('\r');
            if (line.TrimStart().StartsWith('#') || line.Trim().Length == 0)
            {
                continue;
            }
            if (char.IsWhiteSpace(line[0]))
            {
                if (current is null)
                {
                    throw new FormatException($"{path}:{number}: continuation line without an entry before it");
                }
                current += " " + line.Trim();
                continue;
            }
            if (current is not null)
            {
                result.Add((startLine, current));
            }
            current = line.Trim();
            startLine = number;
        }
        if (current is not null)
        {
            result.Add((startLine, current));
        }
        return result;
    }

    public static IReadOnlyList<(int Line, string Text)> ReadLogicalLines(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read: {e.Message}", e);
        }
        return ReadLogicalLines(path, lines);
    }
}
