using System.Globalization;
using Failmail.GoSyntax;

namespace Failmail.Batching;

// DotLiquid filters (Ruby naming: Match → match). They act like failmail's Go functions, with
// the text moved to the filter input: Go `match P T` is `T | match: P`, and Go `replace P T R`
// is `T | replace: P, R`. Registered after DotLiquid's standard filters, so this regex
// `replace` hides DotLiquid's literal `replace` (document: use `remove` or an escaped pattern
// for literal text). DotLiquid calls these through reflection: LiquidSetup keeps them alive for
// the trimmer with a DynamicDependency.
internal static class FailmailFilters
{
    public static string Match(object? input, string? pattern) =>
        GoRegex.Match(pattern ?? "", AsText(input));

    public static string Replace(object? input, string? pattern, string? replacement) =>
        GoRegex.ReplaceAll(pattern ?? "", AsText(input), replacement ?? "");

    // The variable parts of the text as placeholders (SubjectNormalizer, --group-normalize).
    public static string Normalize(object? input) => SubjectNormalizer.Normalize(AsText(input));

    private static string AsText(object? input) => input switch
    {
        null => "",
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => input.ToString() ?? "",
    };
}
