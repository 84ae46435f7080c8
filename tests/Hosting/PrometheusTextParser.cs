using System.Globalization;
using System.Text.RegularExpressions;

namespace Failmail.Tests.Hosting;

// A strict reader of Prometheus text format 0.0.4 for the tests: every line is a HELP, a
// TYPE or a sample `name{labels} value`; HELP and TYPE come once per family and before its
// samples; histogram buckets are cumulative, end in +Inf, and +Inf equals _count.
internal static partial class PrometheusTextParser
{
    internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    internal sealed class Family(string name)
    {
        public string Name { get; } = name;

        public string? Help { get; set; }

        public string? Type { get; set; }

        public List<Sample> Samples { get; } = [];
    }

    public static Dictionary<string, Family> Parse(string text)
    {
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var families = new Dictionary<string, Family>();
        foreach (var line in text[..^1].Split('\n'))
        {
            Assert.False(string.IsNullOrWhiteSpace(line), "blank line in exposition");
            var comment = CommentLine().Match(line);
            if (comment.Success)
            {
                var family = GetFamily(families, comment.Groups["name"].Value);
                Assert.Empty(family.Samples);
                if (comment.Groups["kind"].Value == "HELP")
                {
                    Assert.Null(family.Help);
                    family.Help = comment.Groups["rest"].Value;
                }
                else
                {
                    Assert.Null(family.Type);
                    Assert.Contains(comment.Groups["rest"].Value, new[] { "counter", "gauge", "histogram", "summary", "untyped" });
                    family.Type = comment.Groups["rest"].Value;
                }
                continue;
            }
            var sample = SampleLine().Match(line);
            Assert.True(sample.Success, $"not a sample line: {line}");
            var name = sample.Groups["name"].Value;
            var labels = new Dictionary<string, string>();
            foreach (Match label in LabelPair().Matches(sample.Groups["labels"].Value))
            {
                labels.Add(label.Groups["key"].Value, label.Groups["value"].Value);
            }
            var owner = families.Values.SingleOrDefault(f => name == f.Name
                || (f.Type == "histogram" && (name == f.Name + "_bucket" || name == f.Name + "_sum" || name == f.Name + "_count")));
            Assert.True(owner is not null, $"sample {name} before its HELP/TYPE");
            Assert.NotNull(owner.Help);
            Assert.NotNull(owner.Type);
            if (owner.Type == "counter")
            {
                Assert.EndsWith("_total", name, StringComparison.Ordinal);
            }
            owner.Samples.Add(new Sample(name, labels, ParseValue(sample.Groups["value"].Value)));
        }
        foreach (var family in families.Values)
        {
            Assert.NotEmpty(family.Samples);
            if (family.Type == "histogram")
            {
                CheckHistogram(family);
            }
        }
        return families;
    }

    private static void CheckHistogram(Family family)
    {
        var buckets = family.Samples.Where(s => s.Name == family.Name + "_bucket").ToList();
        Assert.NotEmpty(buckets);
        Assert.Equal("+Inf", buckets[^1].Labels["le"]);
        var previousBound = double.NegativeInfinity;
        var previousCount = 0.0;
        foreach (var bucket in buckets)
        {
            var bound = ParseValue(bucket.Labels["le"]);
            Assert.True(bound > previousBound, "bucket bounds must increase");
            Assert.True(bucket.Value >= previousCount, "buckets must be cumulative");
            previousBound = bound;
            previousCount = bucket.Value;
        }
        var count = family.Samples.Single(s => s.Name == family.Name + "_count").Value;
        Assert.Equal(count, buckets[^1].Value);
        Assert.Single(family.Samples, s => s.Name == family.Name + "_sum");
    }

    private static double ParseValue(string value) => value switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    private static Family GetFamily(Dictionary<string, Family> families, string name)
    {
        if (!families.TryGetValue(name, out var family))
        {
            family = new Family(name);
            families.Add(name, family);
        }
        return family;
    }

    [GeneratedRegex(@"^# (?<kind>HELP|TYPE) (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?<rest>.+)$")]
    private static partial Regex CommentLine();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>([a-zA-Z_][a-zA-Z0-9_]*=""([^""\\\n]|\\.)*"",?)*)\})? (?<value>\S+)$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>([^""\\\n]|\\.)*)""")]
    private static partial Regex LabelPair();
}
