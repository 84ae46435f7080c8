namespace Failmail.Batching;

// The grammar of one Liquid output, the text between "{{" and "}}" (LiquidSyntax cuts it out):
//   output   = [ value { "|" filter } ]
//   filter   = name [ ":" argument { "," argument } ]
//   argument = [ name ":" ] value
//   value    = "string" | 'string' | number | "(" value ".." value ")" | path
//   path     = ( name | index ) { "." name | index }      index = "[" value "]"
// Quoted strings are known to close before limit (LiquidSyntax found the end past them).
internal sealed class LiquidOutputGrammar(string source, int start, int limit)
{
    private int _pos;

    public int ErrorIndex { get; private set; }
    public string Error { get; private set; } = "";

    public bool Check()
    {
        _pos = start;
        return Output();
    }

    private bool Output()
    {
        SkipSpace();
        if (_pos == limit)
        {
            return true;
        }
        if (!Value())
        {
            return false;
        }
        SkipSpace();
        while (_pos < limit)
        {
            if (source[_pos] != '|')
            {
                return Fail(_pos, $"expected '|' or '}}}}', found {Found()}");
            }
            _pos++;
            SkipSpace();
            if (!IsNameChar(Peek()))
            {
                return Fail(_pos, $"expected a filter name after '|', found {Found()}");
            }
            Name();
            SkipSpace();
            if (Peek() == ':')
            {
                do
                {
                    _pos++;
                    if (!Argument())
                    {
                        return false;
                    }
                    SkipSpace();
                }
                while (Peek() == ',');
            }
        }
        return true;
    }

    private bool Argument()
    {
        SkipSpace();
        if (IsNameStart(Peek()))
        {
            // A keyword argument, name: value.
            var save = _pos;
            Name();
            SkipSpace();
            if (Peek() == ':')
            {
                _pos++;
                SkipSpace();
            }
            else
            {
                _pos = save;
            }
        }
        return Value();
    }

    private bool Value()
    {
        SkipSpace();
        var c = Peek();
        if (c is '"' or '\'')
        {
            // TryFindEnd saw the closing quote before the end of the markup.
            _pos = source.IndexOf(c, _pos + 1) + 1;
            return true;
        }
        if (char.IsAsciiDigit(c) || (c == '-' && _pos + 1 < limit && char.IsAsciiDigit(source[_pos + 1])))
        {
            _pos++;
            SkipDigits();
            if (Peek() == '.' && _pos + 1 < limit && char.IsAsciiDigit(source[_pos + 1]))
            {
                _pos++;
                SkipDigits();
            }
            return true;
        }
        if (c == '(')
        {
            return Range();
        }
        if (c == '[' || IsNameStart(c))
        {
            return Path();
        }
        return Fail(_pos, $"expected a value, found {Found()}");
    }

    private bool Range()
    {
        var open = _pos++;
        if (!Value())
        {
            return false;
        }
        SkipSpace();
        if (!(Peek() == '.' && _pos + 1 < limit && source[_pos + 1] == '.'))
        {
            return Fail(_pos, $"expected '..' in the range at {LiquidSyntax.Position(source, open)}, found {Found()}");
        }
        _pos += 2;
        if (!Value())
        {
            return false;
        }
        SkipSpace();
        if (Peek() != ')')
        {
            return Fail(_pos, $"expected ')' to close '(' at {LiquidSyntax.Position(source, open)}, found {Found()}");
        }
        _pos++;
        return true;
    }

    private bool Path()
    {
        if (Peek() == '[')
        {
            if (!Index())
            {
                return false;
            }
        }
        else
        {
            Name();
        }
        while (true)
        {
            if (Peek() == '.' && !(_pos + 1 < limit && source[_pos + 1] == '.'))
            {
                _pos++;
                if (!IsNameChar(Peek()))
                {
                    return Fail(_pos, $"expected a name after '.', found {Found()}");
                }
                Name();
            }
            else if (Peek() == '[')
            {
                if (!Index())
                {
                    return false;
                }
            }
            else
            {
                return true;
            }
        }
    }

    private bool Index()
    {
        var open = _pos++;
        if (!Value())
        {
            return false;
        }
        SkipSpace();
        if (Peek() != ']')
        {
            return Fail(_pos, $"expected ']' to close '[' at {LiquidSyntax.Position(source, open)}, found {Found()}");
        }
        _pos++;
        return true;
    }

    // DotLiquid's variable segments: word characters and '-', then an optional '?' (empty?).
    private void Name()
    {
        while (IsNameChar(Peek()))
        {
            _pos++;
        }
        if (Peek() == '?')
        {
            _pos++;
        }
    }

    private void SkipDigits()
    {
        while (char.IsAsciiDigit(Peek()))
        {
            _pos++;
        }
    }

    private void SkipSpace()
    {
        while (_pos < limit && char.IsWhiteSpace(source[_pos]))
        {
            _pos++;
        }
    }

    private char Peek() => _pos < limit ? source[_pos] : '\0';

    // At limit comes the output's "}}" (or "-}}").
    private string Found() => _pos >= limit ? "'}}'" : $"'{source[_pos]}'";

    private static bool IsNameStart(char c) => char.IsLetter(c) || c == '_';

    private static bool IsNameChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '-';

    private bool Fail(int index, string what)
    {
        ErrorIndex = index;
        Error = what;
        return false;
    }
}
