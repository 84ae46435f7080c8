using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace Failmail.Smtp;

// Pure command-line parser: bytes in, SmtpCommand out. The grammar is RFC 5321 §4.1, made
// lenient where failmail's was needlessly strict (digit-first labels, bare IPs, IPv6
// literals, case-insensitive AUTH mechanisms, spaces after "FROM:" for Monit).
internal static class SmtpCommandParser
{
    // The largest line parsed on the stack; §4.5.3.1.4 makes 512 the usual limit.
    private const int StackLineLimit = 512;

    public static SmtpCommand Parse(in ReadOnlySequence<byte> line)
    {
        if (line.IsSingleSegment)
        {
            return Parse(line.FirstSpan);
        }
        if (line.Length <= StackLineLimit)
        {
            Span<byte> copy = stackalloc byte[StackLineLimit];
            line.CopyTo(copy);
            return Parse(copy[..(int)line.Length]);
        }
        var rented = ArrayPool<byte>.Shared.Rent((int)line.Length);
        try
        {
            line.CopyTo(rented);
            return Parse(rented.AsSpan(0, (int)line.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static SmtpCommand Parse(ReadOnlySpan<byte> line)
    {
        line = TrimEndSpaces(line);
        var space = line.IndexOf((byte)' ');
        var verb = space < 0 ? line : line[..space];
        var rest = space < 0 ? [] : line[(space + 1)..].TrimStart((byte)' ');
        var hasArgument = space >= 0 && !rest.IsEmpty;

        if (Ascii.EqualsIgnoreCase(verb, "EHLO"u8) || Ascii.EqualsIgnoreCase(verb, "HELO"u8))
        {
            var v = verb[0] is (byte)'E' or (byte)'e' ? SmtpVerb.Ehlo : SmtpVerb.Helo;
            return SmtpAddressParser.IsDomainOrLiteral(rest) && Utf8.IsValid(rest)
                ? new SmtpCommand(v, Encoding.UTF8.GetString(rest))
                : new SmtpCommand(v, Error: SmtpReply.SyntaxError(v == SmtpVerb.Ehlo ? "Syntax: EHLO domain" : "Syntax: HELO domain"));
        }
        if (Ascii.EqualsIgnoreCase(verb, "MAIL"u8))
        {
            return ParseMail(rest);
        }
        if (Ascii.EqualsIgnoreCase(verb, "RCPT"u8))
        {
            return ParseRcpt(rest);
        }
        if (Ascii.EqualsIgnoreCase(verb, "DATA"u8))
        {
            return NoArguments(SmtpVerb.Data, hasArgument, "Syntax: DATA");
        }
        if (Ascii.EqualsIgnoreCase(verb, "RSET"u8))
        {
            return NoArguments(SmtpVerb.Rset, hasArgument, "Syntax: RSET");
        }
        if (Ascii.EqualsIgnoreCase(verb, "QUIT"u8))
        {
            return NoArguments(SmtpVerb.Quit, hasArgument, "Syntax: QUIT");
        }
        if (Ascii.EqualsIgnoreCase(verb, "STARTTLS"u8))
        {
            return NoArguments(SmtpVerb.StartTls, hasArgument, "Syntax: STARTTLS");
        }
        // §4.1.1.9 and §4.1.1.8: NOOP and HELP take an optional string, which is ignored.
        if (Ascii.EqualsIgnoreCase(verb, "NOOP"u8))
        {
            return new SmtpCommand(SmtpVerb.Noop);
        }
        if (Ascii.EqualsIgnoreCase(verb, "HELP"u8))
        {
            return new SmtpCommand(SmtpVerb.Help);
        }
        if (Ascii.EqualsIgnoreCase(verb, "VRFY"u8))
        {
            return hasArgument
                ? new SmtpCommand(SmtpVerb.Vrfy)
                : new SmtpCommand(SmtpVerb.Vrfy, Error: SmtpReply.SyntaxError("Syntax: VRFY string"));
        }
        if (Ascii.EqualsIgnoreCase(verb, "AUTH"u8))
        {
            return ParseAuth(rest);
        }
        if (Ascii.EqualsIgnoreCase(verb, "EXPN"u8) || Ascii.EqualsIgnoreCase(verb, "TURN"u8)
            || Ascii.EqualsIgnoreCase(verb, "ETRN"u8) || Ascii.EqualsIgnoreCase(verb, "ATRN"u8)
            || Ascii.EqualsIgnoreCase(verb, "BDAT"u8) || Ascii.EqualsIgnoreCase(verb, "SEND"u8)
            || Ascii.EqualsIgnoreCase(verb, "SOML"u8) || Ascii.EqualsIgnoreCase(verb, "SAML"u8))
        {
            return new SmtpCommand(SmtpVerb.NotImplemented);
        }
        return new SmtpCommand(SmtpVerb.Unknown);
    }

    private static SmtpCommand NoArguments(SmtpVerb verb, bool hasArgument, string usage) =>
        hasArgument ? new SmtpCommand(verb, Error: SmtpReply.SyntaxError(usage)) : new SmtpCommand(verb);

    private static SmtpCommand ParseMail(ReadOnlySpan<byte> rest)
    {
        var usage = new SmtpCommand(SmtpVerb.Mail, Error: SmtpReply.SyntaxError("Syntax: MAIL FROM:<address>"));
        if (rest.Length < 5 || !Ascii.EqualsIgnoreCase(rest[..5], "FROM:"u8))
        {
            return usage;
        }
        // Spaces after the colon are not RFC 5321, but Monit sends them (failmail allowed it too).
        var path = rest[5..].TrimStart((byte)' ');
        if (!SmtpAddressParser.TryParsePath(path, allowNull: true, allowBareName: true, out var address, out var used))
        {
            return usage;
        }
        long size = -1;
        var parameters = path[used..];
        while (!parameters.IsEmpty)
        {
            if (parameters[0] != (byte)' ')
            {
                return usage;
            }
            parameters = parameters.TrimStart((byte)' ');
            var end = parameters.IndexOf((byte)' ');
            var parameter = end < 0 ? parameters : parameters[..end];
            parameters = end < 0 ? [] : parameters[end..];
            var eq = parameter.IndexOf((byte)'=');
            var keyword = eq < 0 ? parameter : parameter[..eq];
            var value = eq < 0 ? [] : parameter[(eq + 1)..];
            if (Ascii.EqualsIgnoreCase(keyword, "SIZE"u8) && eq >= 0)
            {
                // RFC 1870: SIZE=<digits>. A value too large for a long is still "too large".
                if (value.IsEmpty || value.Length > 20 || value.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
                {
                    return new SmtpCommand(SmtpVerb.Mail, Error: SmtpReply.SyntaxError("Bad SIZE parameter"));
                }
                size = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : long.MaxValue;
            }
            else if (Ascii.EqualsIgnoreCase(keyword, "BODY"u8) && eq >= 0)
            {
                // RFC 6152 (8BITMIME): the message is stored as bytes either way.
                if (!Ascii.EqualsIgnoreCase(value, "7BIT"u8) && !Ascii.EqualsIgnoreCase(value, "8BITMIME"u8))
                {
                    return new SmtpCommand(SmtpVerb.Mail, Error: SmtpReply.SyntaxError("Bad BODY parameter"));
                }
            }
            else if (Ascii.EqualsIgnoreCase(parameter, "SMTPUTF8"u8))
            {
                // RFC 6531: addresses are kept as UTF-8 whether or not this is given.
            }
            else if (Ascii.EqualsIgnoreCase(keyword, "AUTH"u8) && eq >= 0)
            {
                // RFC 4954 §5: the submitter identity is accepted and not used.
            }
            else
            {
                return Unsupported(SmtpVerb.Mail);
            }
        }
        return new SmtpCommand(SmtpVerb.Mail, address, Size: size);
    }

    private static SmtpCommand ParseRcpt(ReadOnlySpan<byte> rest)
    {
        var usage = new SmtpCommand(SmtpVerb.Rcpt, Error: SmtpReply.SyntaxError("Syntax: RCPT TO:<address>"));
        if (rest.Length < 3 || !Ascii.EqualsIgnoreCase(rest[..3], "TO:"u8))
        {
            return usage;
        }
        var path = rest[3..].TrimStart((byte)' ');
        if (!SmtpAddressParser.TryParsePath(path, allowNull: false, allowBareName: true, out var address, out var used))
        {
            return usage;
        }
        var parameters = path[used..];
        if (parameters.IsEmpty)
        {
            return new SmtpCommand(SmtpVerb.Rcpt, address);
        }
        return parameters[0] == (byte)' ' ? Unsupported(SmtpVerb.Rcpt) : usage;
    }

    // §4.1.1.11: 555 when MAIL or RCPT parameters are not recognised.
    private static SmtpCommand Unsupported(SmtpVerb verb) =>
        new(verb, Error: new SmtpReply(555, "5.5.4 Unsupported parameter"));

    private static SmtpCommand ParseAuth(ReadOnlySpan<byte> rest)
    {
        var space = rest.IndexOf((byte)' ');
        var mechanism = space < 0 ? rest : rest[..space];
        var initial = space < 0 ? [] : rest[(space + 1)..].Trim((byte)' ');
        if (mechanism.IsEmpty || mechanism.ContainsAnyExcept(MechanismChars))
        {
            return new SmtpCommand(SmtpVerb.Auth, Error: SmtpReply.SyntaxError("Syntax: AUTH mechanism [initial-response]"));
        }
        var name = Encoding.ASCII.GetString(mechanism).ToUpperInvariant();
        return new SmtpCommand(SmtpVerb.Auth, name, space < 0 ? null : Encoding.ASCII.GetString(initial));
    }

    private static readonly SearchValues<byte> MechanismChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"u8);

    private static ReadOnlySpan<byte> TrimEndSpaces(ReadOnlySpan<byte> s) => s.TrimEnd(" \t"u8);
}
