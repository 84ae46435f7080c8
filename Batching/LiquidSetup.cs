using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;
using DotLiquid;

namespace Failmail.Batching;

// DotLiquid's global state and the rules we apply to every template: filters registered once,
// templates parsed and validated once at start-up, rendered with ErrorsOutputMode.Rethrow so a
// failure is an exception we can log instead of text in a digest.
internal static partial class LiquidSetup
{
    // Bounds a runaway {% for %} in a user template.
    private const int RenderTimeoutMs = 2000;
    private const int MaxIterations = 100_000;

    private static readonly Lazy<HashSet<string>> KnownFilters = new(() =>
    {
        EnsureRegistered();
        // DotLiquid's own filters (its assembly is rooted whole, so this reflection is safe
        // under AOT) plus ours, named here rather than found by reflection over our types.
        var names = typeof(StandardFilters).GetMethods()
            .Where(m => m.IsStatic && m.IsPublic)
            .Select(m => Template.NamingConvention.GetMemberName(m.Name))
            .ToHashSet(StringComparer.Ordinal);
        names.Add("match");
        names.Add("replace");
        names.Add("normalize");
        return names;
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly Lazy<Type[]> Registered = new(() =>
    {
        var types = new[] { typeof(FailmailFilters) };
        foreach (var type in types)
        {
            Template.RegisterFilter(type);
        }
        return types;
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    private static IEnumerable<Type> FilterTypes => Registered.Value;

    // The one place custom filters are registered (globally, and handed to every render so they
    // win over DotLiquid's standard filters of the same name). Idempotent and thread-safe.
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicMethods, typeof(FailmailFilters))]
    public static void EnsureRegistered() => _ = Registered.Value;

    // Parses source and checks every filter name (DotLiquid silently skips unknown filters, even
    // with Rethrow) and the syntax DotLiquid lets through (LiquidSyntax). Throws
    // ExpressionException naming flag.
    public static Template Parse(string flag, string source)
    {
        EnsureRegistered();
        if (LiquidSyntax.Check(source) is { } syntaxError)
        {
            throw new ExpressionException(flag, syntaxError);
        }
        Template template;
        try
        {
            template = Template.Parse(source);
        }
        catch (DotLiquid.Exceptions.LiquidException e)
        {
            throw new ExpressionException(flag, $"cannot parse template: {e.Message}", e);
        }
        foreach (Match markup in MarkupRegex().Matches(source))
        {
            var code = QuotedRegex().Replace(markup.Value, "\"\"");
            foreach (Match filter in FilterRegex().Matches(code))
            {
                var name = filter.Groups[1].Value;
                if (!KnownFilters.Value.Contains(name))
                {
                    throw new ExpressionException(flag, $"unknown filter '{name}' in {markup.Value} (failmail adds 'match', 'replace' and 'normalize' to DotLiquid's standard filters)");
                }
            }
        }
        return template;
    }

    public static string Render(Template template, Hash variables)
    {
        ArgumentNullException.ThrowIfNull(template);
        var parameters = new RenderParameters(CultureInfo.InvariantCulture)
        {
            LocalVariables = variables,
            ErrorsOutputMode = ErrorsOutputMode.Rethrow,
            Timeout = RenderTimeoutMs,
            MaxIterations = MaxIterations,
            // Applied after DotLiquid's standard filters, so our regex replace wins over its own.
            Filters = FilterTypes,
        };
        // A Template keeps per-render state: one render at a time per template.
        lock (template)
        {
            return template.Render(parameters);
        }
    }

    [GeneratedRegex(@"\{\{.*?\}\}|\{%.*?%\}", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex MarkupRegex();

    [GeneratedRegex(@"""[^""]*""|'[^']*'", RegexOptions.CultureInvariant)]
    private static partial Regex QuotedRegex();

    [GeneratedRegex(@"\|\s*([A-Za-z_][A-Za-z0-9_]*)", RegexOptions.CultureInvariant)]
    private static partial Regex FilterRegex();
}
