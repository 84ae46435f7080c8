using System.Globalization;
using System.Text.RegularExpressions;

namespace Failmail.Batching;

// A strict syntax check of a Liquid template, run before DotLiquid parses it. DotLiquid is
// lenient where it matters to us: {{ headers["x" }} or {{ subject | }} parse without an error
// and render "" for every message, so a typo in --group-expr would put every alert in one
// group without a word. This cuts the template as DotLiquid's Tokenizer does ("{{" or "{%",
// an optional "-", quoted strings skipped, up to "}}" or "%}"; raw and comment bodies taken
// whole), checks every output against LiquidOutputGrammar and every tag for closed
// brackets (DotLiquid parses tags strictly enough itself). Pure: the first error and where
// it is, or null.
internal static partial class LiquidSyntax
{
    // "syntax error at column C: what" ("line L, column C" for a template of several lines),
    // or null when source is well formed.
    public static string? Check(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var checker = new Checker(source);
        return checker.Run() ? null : $"syntax error at {Position(source, checker.ErrorIndex)}: {checker.Error}";
    }

    // 1-based, as editors count.
    internal static string Position(string source, int index)
    {
        index = Math.Clamp(index, 0, source.Length);
        var lineStart = index == 0 ? 0 : source.LastIndexOf('\n', index - 1) + 1;
        var column = (index - lineStart + 1).ToString(CultureInfo.InvariantCulture);
        if (!source.Contains('\n', StringComparison.Ordinal))
        {
            return "column " + column;
        }
        var line = source.AsSpan(0, lineStart).Count('\n') + 1;
        return $"line {line.ToString(CultureInfo.InvariantCulture)}, column {column}";
    }

    [GeneratedRegex(@"\G\s*(\w+)", RegexOptions.CultureInvariant)]
    private static partial Regex TagNameRegex();

    [GeneratedRegex(@"\{%-?\s*endraw\s*-?%\}", RegexOptions.CultureInvariant)]
    private static partial Regex EndRawRegex();

    [GeneratedRegex(@"\{%-?\s*endcomment\s*-?%\}", RegexOptions.CultureInvariant)]
    private static partial Regex EndCommentRegex();

    private sealed class Checker(string source)
    {
        public int ErrorIndex { get; private set; }
        public string Error { get; private set; } = "";

        public bool Run()
        {
            var i = 0;
            while (true)
            {
                var open = source.IndexOf('{', i);
                while (open >= 0 && (open + 1 >= source.Length || source[open + 1] is not ('{' or '%')))
                {
                    open = source.IndexOf('{', open + 1);
                }
                if (open < 0)
                {
                    return true;
                }
                var tag = source[open + 1] == '%';
                var start = open + 2;
                if (start < source.Length && source[start] == '-')
                {
                    start++;
                }
                if (!TryFindEnd(open, start, tag, out var end))
                {
                    return false;
                }
                // "-}}" and "-%}" trim whitespace; the hyphen is not part of the markup.
                var innerEnd = end > start && source[end - 1] == '-' ? end - 1 : end;
                i = end + 2;
                if (!tag)
                {
                    var output = new LiquidOutputGrammar(source, start, innerEnd);
                    if (!output.Check())
                    {
                        return Fail(output.ErrorIndex, output.Error);
                    }
                    continue;
                }
                var name = TagNameRegex().Match(source, start, innerEnd - start);
                if (name.Success && name.Groups[1].Value is "raw" or "comment")
                {
                    // The body is text, up to the end tag (DotLiquid: Tokenizer's raw tags).
                    var tagName = name.Groups[1].Value;
                    var close = (tagName == "raw" ? EndRawRegex() : EndCommentRegex()).Match(source, i);
                    if (!close.Success)
                    {
                        return Fail(open, $"'{{% {tagName} %}}' is never closed by '{{% end{tagName} %}}'");
                    }
                    i = close.Index;
                    continue;
                }
                if (!Balanced(start, innerEnd))
                {
                    return false;
                }
            }
        }

        // Sets end to the index of the closing "}}" or "%}", skipping quoted strings.
        private bool TryFindEnd(int open, int start, bool tag, out int end)
        {
            var closer = tag ? '%' : '}';
            for (var j = start; j < source.Length; j++)
            {
                var c = source[j];
                if (c is '"' or '\'')
                {
                    var quote = source.IndexOf(c, j + 1);
                    if (quote < 0)
                    {
                        end = -1;
                        return Fail(j, "unterminated string");
                    }
                    j = quote;
                }
                else if (c == closer && j + 1 < source.Length && source[j + 1] == '}')
                {
                    end = j;
                    return true;
                }
            }
            end = -1;
            return Fail(open, tag ? "'{%' is never closed by '%}'" : "'{{' is never closed by '}}'");
        }

        // Tags keep DotLiquid's own parsing; here only their brackets must close.
        private bool Balanced(int start, int limit)
        {
            var open = new Stack<int>();
            for (var pos = start; pos < limit; pos++)
            {
                var c = source[pos];
                if (c is '"' or '\'')
                {
                    // TryFindEnd saw it close before the end of the tag.
                    pos = source.IndexOf(c, pos + 1);
                }
                else if (c is '[' or '(')
                {
                    open.Push(pos);
                }
                else if (c is ']' or ')')
                {
                    var expected = c == ']' ? '[' : '(';
                    if (open.Count == 0 || source[open.Peek()] != expected)
                    {
                        return Fail(pos, $"'{c}' closes nothing");
                    }
                    open.Pop();
                }
            }
            if (open.Count > 0)
            {
                var at = open.Peek();
                return Fail(limit, $"'{source[at]}' at {Position(source, at)} is never closed");
            }
            return true;
        }

        private bool Fail(int index, string what)
        {
            ErrorIndex = index;
            Error = what;
            return false;
        }
    }
}
