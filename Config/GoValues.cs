using System.Globalization;

namespace Failmail.Config;

// The bool and integer literals Go's flag package accepts, so failmail command lines and
// config files keep working: strconv.ParseBool and strconv.ParseInt with base 0.
internal static class GoValues
{
    public static bool TryParseBool(string text, out bool value)
    {
        switch (text)
        {
            case "1" or "t" or "T" or "TRUE" or "true" or "True":
                value = true;
                return true;
            case "0" or "f" or "F" or "FALSE" or "false" or "False":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    public static string FormatBool(bool value) => value ? "true" : "false";

    public static string InvalidBool(string text) => $"invalid boolean value \"{text}\" (use true or false)";

    // Base 0: "0x1F", "0o17", "0b101", leading-0 octal "017", or decimal; an optional sign;
    // underscores between digits ("1_000") only as Go allows them, i.e. with base 0.
    public static bool TryParseInt64(string text, out long value)
    {
        value = 0;
        var s = text.AsSpan();
        var negative = false;
        if (!s.IsEmpty && (s[0] == '+' || s[0] == '-'))
        {
            negative = s[0] == '-';
            s = s[1..];
        }
        var radix = 10;
        var prefixed = false;
        if (s.Length >= 2 && s[0] == '0')
        {
            switch (s[1])
            {
                case 'x' or 'X':
                    radix = 16;
                    s = s[2..];
                    prefixed = true;
                    break;
                case 'o' or 'O':
                    radix = 8;
                    s = s[2..];
                    prefixed = true;
                    break;
                case 'b' or 'B':
                    radix = 2;
                    s = s[2..];
                    prefixed = true;
                    break;
                default:
                    radix = 8;
                    s = s[1..];
                    prefixed = true;
                    break;
            }
        }
        if (s.IsEmpty || s[^1] == '_' || (s[0] == '_' && !prefixed))
        {
            return false;
        }

        UInt128 magnitude = 0;
        var previousUnderscore = false;
        foreach (var c in s)
        {
            if (c == '_')
            {
                if (previousUnderscore)
                {
                    return false;
                }
                previousUnderscore = true;
                continue;
            }
            previousUnderscore = false;
            var digit = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'f' => c - 'a' + 10,
                >= 'A' and <= 'F' => c - 'A' + 10,
                _ => int.MaxValue,
            };
            if (digit >= radix)
            {
                return false;
            }
            magnitude = magnitude * (uint)radix + (uint)digit;
            if (magnitude > (UInt128)long.MaxValue + 1)
            {
                return false;
            }
        }
        if (!negative && magnitude > long.MaxValue)
        {
            return false;
        }
        value = negative ? (long)(-(Int128)magnitude) : (long)magnitude;
        return true;
    }

    public static bool TryParseInt32(string text, out int value)
    {
        if (TryParseInt64(text, out var wide) && wide is >= int.MinValue and <= int.MaxValue)
        {
            value = (int)wide;
            return true;
        }
        value = 0;
        return false;
    }

    public static string FormatInt(long value) => value.ToString(CultureInfo.InvariantCulture);
}
