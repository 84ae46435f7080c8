using System.Text;

namespace Failmail.Batching;

// A recursive-descent parser for one {{ action }} of the Go template subset that
// GoTemplateTranslator supports.
internal sealed class GoTemplateParser(string flag, string expr, int position)
{
    private int _pos = position;

    // Returns null for a comment. end is the index after "}}".
    public GoTemplateNode? ParseAction(out int end, out bool trimRight)
    {
        SkipSpace();
        if (Peek("/*"))
        {
            var close = expr.IndexOf("*/", _pos + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                throw Error("unclosed comment");
            }
            _pos = close + 2;
            SkipSpace();
            return Close(null, out end, out trimRight);
        }
        var node = ParsePipeline();
        return Close(node, out end, out trimRight);
    }

    private GoTemplateNode? Close(GoTemplateNode? node, out int end, out bool trimRight)
    {
        SkipSpace();
        trimRight = false;
        if (Peek("-}}") && _pos > 0 && IsSpace(expr[_pos - 1]))
        {
            trimRight = true;
            _pos++;
        }
        if (!Peek("}}"))
        {
            throw _pos >= expr.Length ? Error("unclosed action (missing \"}}\")") : Unexpected();
        }
        end = _pos + 2;
        return node;
    }

    // command ('|' command)*: the value on the left becomes the last argument on the right.
    private GoTemplateNode ParsePipeline()
    {
        var node = ParseCommand(null);
        SkipSpace();
        while (Peek("|") && !Peek("||"))
        {
            _pos++;
            node = ParseCommand(node);
            SkipSpace();
        }
        return node;
    }

    private GoTemplateNode ParseCommand(GoTemplateNode? piped)
    {
        SkipSpace();
        var start = _pos;
        if (Peek(".Header.Get"))
        {
            _pos += ".Header.Get".Length;
            var args = ParseArguments();
            if (piped is not null)
            {
                args.Add(piped);
            }
            if (args.Count != 1 || args[0] is not GoTemplateNode.Literal name)
            {
                throw new ExpressionException(flag, $".Header.Get takes one string, the header name, in {GoTemplateTranslator.Quote(expr)}; in DotLiquid: {{{{ headers[\"x-failmail-split\"] }}}}");
            }
            return new GoTemplateNode.HeaderGet(name.Value);
        }
        if (Peek("."))
        {
            throw new ExpressionException(flag, GoTemplateTranslator.Unsupported(Word(), expr)
                .Replace("; failmail", $"; only .Header.Get \"Name\" is supported (DotLiquid: {{{{ headers[\"name\"] }}}}, {{{{ subject }}}}, {{{{ from }}}}, {{{{ body }}}}); failmail", StringComparison.Ordinal));
        }
        if (IsIdentStart())
        {
            var name = Word();
            if (name is not ("match" or "replace" or "normalize"))
            {
                throw new ExpressionException(flag, GoTemplateTranslator.Unsupported($"'{name}'", expr));
            }
            var args = ParseArguments();
            if (piped is not null)
            {
                args.Add(piped);
            }
            return new GoTemplateNode.Call(name, args);
        }
        if (piped is not null)
        {
            throw new ExpressionException(flag, GoTemplateTranslator.Unsupported("(a pipe into a value)", expr));
        }
        var operand = ParseOperand() ?? throw Unexpected();
        SkipSpace();
        if (!Peek("}}") && !Peek("-}}") && !Peek("|") && !Peek(")"))
        {
            _pos = start;
            throw new ExpressionException(flag, GoTemplateTranslator.Unsupported("(a value followed by arguments)", expr));
        }
        return operand;
    }

    private List<GoTemplateNode> ParseArguments()
    {
        var args = new List<GoTemplateNode>();
        while (true)
        {
            var before = _pos;
            SkipSpace();
            if (_pos == before && args.Count == 0 && _pos < expr.Length && !Peek("}}") && !Peek(")") && !Peek("|"))
            {
                throw Unexpected();
            }
            var arg = ParseOperand();
            if (arg is null)
            {
                return args;
            }
            args.Add(arg);
        }
    }

    private GoTemplateNode? ParseOperand()
    {
        if (_pos >= expr.Length || Peek("-}}"))
        {
            return null;
        }
        var c = expr[_pos];
        if (c == '"')
        {
            return new GoTemplateNode.Literal(ReadInterpreted());
        }
        if (c == '`')
        {
            var close = expr.IndexOf('`', _pos + 1);
            if (close < 0)
            {
                throw Error("unterminated raw string");
            }
            var value = expr[(_pos + 1)..close];
            _pos = close + 1;
            return new GoTemplateNode.Literal(value);
        }
        if (c == '(')
        {
            _pos++;
            var inner = ParsePipeline();
            SkipSpace();
            if (!Peek(")"))
            {
                throw Error("missing \")\"");
            }
            _pos++;
            return inner;
        }
        if (c == '.' || IsIdentStart())
        {
            if (Peek(".Header.Get") || c != '.')
            {
                throw new ExpressionException(flag, GoTemplateTranslator.Unsupported($"'{Word()}' as an argument (put a function call in parentheses)", expr));
            }
            throw new ExpressionException(flag, GoTemplateTranslator.Unsupported(Word(), expr));
        }
        if (char.IsAsciiDigit(c) || c == '-')
        {
            throw new ExpressionException(flag, GoTemplateTranslator.Unsupported("(a number)", expr));
        }
        return null;
    }

    // A Go interpreted string literal. Unknown escapes keep their backslash (failmail's
    // README writes "\[\w+\]", which Go rejects; we take it to mean the regex \[\w+\]).
    private string ReadInterpreted()
    {
        var sb = new StringBuilder();
        _pos++;
        while (_pos < expr.Length)
        {
            var c = expr[_pos++];
            if (c == '"')
            {
                return sb.ToString();
            }
            if (c == '\n')
            {
                break;
            }
            if (c != '\\' || _pos >= expr.Length)
            {
                sb.Append(c);
                continue;
            }
            var e = expr[_pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case '\\': sb.Append('\\'); break;
                case '"': sb.Append('"'); break;
                case '\'': sb.Append('\''); break;
                case 'x' when TryHex(2, out var x): sb.Append((char)x); break;
                case 'u' when TryHex(4, out var u): sb.Append((char)u); break;
                case 'U' when TryHex(8, out var big) && big <= 0x10FFFF: sb.Append(char.ConvertFromUtf32(big)); break;
                default: sb.Append('\\').Append(e); break;
            }
        }
        throw Error("unterminated string");
    }

    private bool TryHex(int digits, out int value)
    {
        value = 0;
        if (_pos + digits > expr.Length
            || !int.TryParse(expr.AsSpan(_pos, digits), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out value))
        {
            return false;
        }
        _pos += digits;
        return true;
    }

    private string Word()
    {
        var start = _pos;
        while (_pos < expr.Length && (char.IsAsciiLetterOrDigit(expr[_pos]) || expr[_pos] is '_' or '.' or '$'))
        {
            _pos++;
        }
        return _pos == start ? expr[start..Math.Min(expr.Length, start + 1)] : expr[start.._pos];
    }

    private bool IsIdentStart() => _pos < expr.Length && (char.IsAsciiLetter(expr[_pos]) || expr[_pos] is '_' or '$');

    private bool Peek(string s) => string.CompareOrdinal(expr, _pos, s, 0, s.Length) == 0;

    private void SkipSpace()
    {
        while (_pos < expr.Length && IsSpace(expr[_pos]))
        {
            _pos++;
        }
    }

    private ExpressionException Unexpected()
    {
        var rest = expr[_pos..];
        return Error($"unexpected {GoTemplateTranslator.Quote(rest.Length > 20 ? rest[..20] : rest)}");
    }

    // The same form as LiquidSyntax's errors: a 1-based column, then what is wrong.
    private ExpressionException Error(string what) =>
        new(flag, $"syntax error at {LiquidSyntax.Position(expr, _pos)}: {what} in Go template {GoTemplateTranslator.Quote(expr)}");

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\n';
}
