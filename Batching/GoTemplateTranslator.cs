using System.Text;
using System.Text.RegularExpressions;

namespace Failmail.Batching;

// Translates the Go text/template forms failmail users wrote for --batch-expr and --group-expr
// into DotLiquid. The subset (spec §4.1, Appendix A):
//   literal text; {{.Header.Get "Name"}}; {{match P T}}; {{replace P T R}}; {{normalize T}}; "strings" with Go
//   escapes (an unknown escape such as \[ keeps its backslash, so the README's
//   "\[\w+\]" works, though Go rejects it); `raw strings`; (sub-pipelines); pipes
//   (X | match P means match P X); trim markers {{- -}}; {{/* comments */}}.
// Everything else is a start-up error that shows the DotLiquid way to write it.
internal static partial class GoTemplateTranslator
{
    private const string LiquidHint =
        "failmail expressions are DotLiquid templates now; write for example " +
        "{{ headers[\"x-failmail-split\"] }}, {{ subject | match: \"^\\w+\" }} or " +
        "{{ headers.subject | replace: \"[0-9]+\", \"N\" }} (see docs/TEMPLATES.md)";

    // True when expr uses Go template syntax rather than Liquid: an action that starts with a
    // field (.Header), a comment, or a function name followed by an argument. Liquid output
    // such as {{ "x" | upcase }} or {{- subject -}} does not match.
    public static bool IsGoTemplate(string expr)
    {
        ArgumentNullException.ThrowIfNull(expr);
        return GoActionRegex().IsMatch(expr);
    }

    public static string Translate(string flag, string expr)
    {
        ArgumentNullException.ThrowIfNull(expr);
        var output = new StringBuilder();
        var captures = 0;
        var i = 0;
        var trimNextText = false;
        while (i < expr.Length)
        {
            var open = expr.IndexOf("{{", i, StringComparison.Ordinal);
            var text = open < 0 ? expr[i..] : expr[i..open];
            var trimLeft = open >= 0 && open + 2 < expr.Length && expr[open + 2] == '-' && open + 3 < expr.Length && IsSpace(expr[open + 3]);
            if (trimNextText)
            {
                text = text.TrimStart(' ', '\t', '\r', '\n');
            }
            if (trimLeft)
            {
                text = text.TrimEnd(' ', '\t', '\r', '\n');
            }
            AppendText(output, flag, text);
            if (open < 0)
            {
                break;
            }
            var parser = new GoTemplateParser(flag, expr, open + (trimLeft ? 3 : 2));
            var node = parser.ParseAction(out var end, out trimNextText);
            if (node is not null)
            {
                var prelude = new StringBuilder();
                var value = Emit(node, prelude, ref captures, flag, expr);
                output.Append(prelude).Append("{{ ").Append(value).Append(" }}");
            }
            i = end;
        }
        return output.ToString();
    }

    private static void AppendText(StringBuilder output, string flag, string text)
    {
        if (text.Length == 0)
        {
            return;
        }
        if (text.Contains("{%", StringComparison.Ordinal) || text.Contains("}}", StringComparison.Ordinal))
        {
            if (text.Contains("endraw", StringComparison.Ordinal))
            {
                throw new ExpressionException(flag, $"literal text {Quote(text)} cannot be expressed in DotLiquid");
            }
            output.Append("{% raw %}").Append(text).Append("{% endraw %}");
            return;
        }
        output.Append(text);
    }

    // A Liquid expression (input | filter: args) for node; arguments that cannot be written
    // inline are captured into variables first.
    private static string Emit(GoTemplateNode node, StringBuilder prelude, ref int captures, string flag, string expr)
    {
        switch (node)
        {
            case GoTemplateNode.Literal literal:
                return InlineLiteral(literal.Value) ?? Capture(prelude, ref captures, RawText(flag, literal.Value));
            case GoTemplateNode.HeaderGet header:
                return $"headers[\"{header.Name.ToLowerInvariant()}\"]";
            case GoTemplateNode.Call call when call.Function == "match" && call.Args.Count == 2:
                {
                    var input = Emit(call.Args[1], prelude, ref captures, flag, expr);
                    var pattern = EmitArgument(call.Args[0], prelude, ref captures, flag, expr);
                    return $"{input} | match: {pattern}";
                }
            case GoTemplateNode.Call call when call.Function == "replace" && call.Args.Count == 3:
                {
                    var input = Emit(call.Args[1], prelude, ref captures, flag, expr);
                    var pattern = EmitArgument(call.Args[0], prelude, ref captures, flag, expr);
                    var replacement = EmitArgument(call.Args[2], prelude, ref captures, flag, expr);
                    return $"{input} | replace: {pattern}, {replacement}";
                }
            case GoTemplateNode.Call call when call.Function == "normalize" && call.Args.Count == 1:
                return $"{Emit(call.Args[0], prelude, ref captures, flag, expr)} | normalize";
            case GoTemplateNode.Call call:
                var (usage, arity) = call.Function switch
                {
                    "match" => ("match PATTERN TEXT", 2),
                    "normalize" => ("normalize TEXT", 1),
                    _ => ("replace PATTERN TEXT REPLACEMENT", 3),
                };
                throw new ExpressionException(flag, $"{call.Function} takes {arity} {(arity == 1 ? "argument" : "arguments")} ({usage}), got {call.Args.Count} in {Quote(expr)}");
            default:
                throw new InvalidOperationException("unknown node");
        }
    }

    private static string EmitArgument(GoTemplateNode node, StringBuilder prelude, ref int captures, string flag, string expr)
    {
        if (node is GoTemplateNode.Literal literal && InlineLiteral(literal.Value) is { } inline)
        {
            return inline;
        }
        var inner = new StringBuilder();
        var value = Emit(node, prelude, ref captures, flag, expr);
        inner.Append("{{ ").Append(value).Append(" }}");
        return Capture(prelude, ref captures, inner.ToString());
    }

    private static string Capture(StringBuilder prelude, ref int captures, string body)
    {
        var name = $"_fm{captures++}";
        prelude.Append("{% capture ").Append(name).Append(" %}").Append(body).Append("{% endcapture %}");
        return name;
    }

    private static string RawText(string flag, string value)
    {
        if (value.Contains("endraw", StringComparison.Ordinal))
        {
            throw new ExpressionException(flag, $"string {Quote(value)} cannot be expressed in DotLiquid");
        }
        return value.Length == 0 ? "" : "{% raw %}" + value + "{% endraw %}";
    }

    // Liquid strings have no escapes: inline only what a quote can hold and DotLiquid's markup
    // scanner cannot misread.
    private static string? InlineLiteral(string value)
    {
        if (value.Contains("}}", StringComparison.Ordinal) || value.Contains("%}", StringComparison.Ordinal)
            || value.Contains('\n') || value.Contains('\r'))
        {
            return null;
        }
        if (!value.Contains('"'))
        {
            return "\"" + value + "\"";
        }
        if (!value.Contains('\''))
        {
            return "'" + value + "'";
        }
        return null;
    }

    internal static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\n';

    internal static string Unsupported(string what, string expr) =>
        $"unsupported Go template form {what} in {Quote(expr)}; {LiquidHint}";

    [GeneratedRegex(@"\{\{-?\s*(\.|/\*|[A-Za-z_][A-Za-z0-9_]*\s+[^\s|}\-])", RegexOptions.CultureInvariant)]
    private static partial Regex GoActionRegex();
}
