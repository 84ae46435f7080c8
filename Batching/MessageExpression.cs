using DotLiquid;

namespace Failmail.Batching;

// One --batch-expr or --group-expr, parsed and validated once at start-up. A Go template in
// failmail's subset is translated to DotLiquid first (GoTemplateTranslator). Evaluate throws
// what the render threw (a regex timeout, say); the service logs it and uses "" as the key.
internal sealed class MessageExpression
{
    private readonly Template _template;
    private readonly string? _headerOnly;

    private MessageExpression(string flag, string source, string liquid, Template template)
    {
        Flag = flag;
        Source = source;
        Liquid = liquid;
        _template = template;
        NeedsBody = liquid.Contains("body", StringComparison.Ordinal);
        _headerOnly = HeaderOnly(liquid);
    }

    public string Flag { get; }

    public string Source { get; }

    // The DotLiquid text actually rendered.
    public string Liquid { get; }

    // Whether the expression reads the body (decoding it costs; skip it otherwise).
    public bool NeedsBody { get; }

    // Set when the expression is one header lookup (the defaults): Evaluate then returns
    // headers[HeaderName], which a caller may look up without building the variables.
    public string? HeaderName => _headerOnly;

    // Throws ExpressionException naming flag when source is broken.
    public static MessageExpression Create(string flag, string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var liquid = GoTemplateTranslator.IsGoTemplate(source) ? GoTemplateTranslator.Translate(flag, source) : source;
        Template template;
        try
        {
            template = LiquidSetup.Parse(flag, liquid);
        }
        catch (ExpressionException e) when (!ReferenceEquals(liquid, source))
        {
            // A position in the translation means nothing without it.
            throw new ExpressionException(flag, $"{e.Message[(flag.Length + 2)..]} (as DotLiquid: {liquid})", e);
        }
        var expression = new MessageExpression(flag, source, liquid, template);
        if (expression._headerOnly is not null)
        {
            // One header lookup (the defaults) cannot fail at render time. Rendering the sample
            // would build a MimeMessage, whose Message-Id draws random bytes from OpenSSL:
            // loading libcrypto cost ~3.5 MB of RSS and several ms of start-up.
            return expression;
        }
        try
        {
            // Rethrow mode turns a bad regex literal or a bad filter argument into an error now.
            expression.Evaluate(MessageVariables.Sample());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var shown = ReferenceEquals(liquid, source) ? "" : $" (as DotLiquid: {liquid})";
            throw new ExpressionException(flag, $"{e.Message}{shown}", e);
        }
        return expression;
    }

    public string Evaluate(Hash variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        if (_headerOnly is not null)
        {
            // The defaults are one header lookup: skip the renderer.
            return variables["headers"] is Hash headers && headers.TryGetValue(_headerOnly, out var value) ? value as string ?? "" : "";
        }
        return LiquidSetup.Render(_template, variables);
    }

    private static string? HeaderOnly(string liquid)
    {
        const string Prefix = "{{ headers[\"";
        const string Suffix = "\"] }}";
        if (liquid.StartsWith(Prefix, StringComparison.Ordinal) && liquid.EndsWith(Suffix, StringComparison.Ordinal))
        {
            var name = liquid[Prefix.Length..^Suffix.Length];
            if (name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return name; // as written, like the Liquid lookup it replaces
            }
        }
        return null;
    }
}
