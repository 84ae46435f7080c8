using System.Text.Json;
using Failmail.Outputs;
using Failmail.Tests.EndToEnd;

namespace Failmail.Tests.Outputs;

internal static class OutputTestKit
{
    public static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    public static OutputSummary Summary(int groups = 3, string recipient = "ops@example.com", string batchKey = "", int countEach = 2, string subject = "disk full on db{0}") =>
        new()
        {
            Recipient = recipient,
            BatchKey = batchKey,
            TotalMessages = groups * countEach,
            Oldest = T0,
            Newest = T0.AddMinutes(4),
            Groups = [.. Enumerable.Range(0, groups).Select(i => new OutputGroup
            {
                Key = string.Format(System.Globalization.CultureInfo.InvariantCulture, subject, i),
                Subject = string.Format(System.Globalization.CultureInfo.InvariantCulture, subject, i),
                Count = countEach,
                First = T0,
                Last = T0.AddMinutes(4),
            })],
            Subject = "[failmail] disk full",
        };

    public static OutputEntry Entry(OutputSummary? summary = null) =>
        new() { Id = OutputQueue.NewId(T0), Queued = T0, Summary = summary ?? Summary() };

    public static OutputSettings Settings(string failDir, TransportMap? map = null) => new()
    {
        Map = map ?? TransportMap.Empty,
        MapPath = "",
        QueueRoot = null,
        FailDir = failDir,
        Poll = TimeSpan.FromSeconds(5),
        RetryMin = TimeSpan.FromSeconds(30),
        RetryMax = TimeSpan.FromMinutes(10),
        QueueLifetime = TimeSpan.FromDays(1),
        Timeout = TimeSpan.FromSeconds(10),
    };

    public static OutputTarget Target(string text, Func<string, string?>? env = null)
    {
        Assert.True(OutputTargetParser.TryParse(text, env ?? (_ => null), out var target, out var error), error);
        return target;
    }

    public static JsonElement Fixture(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "fixtures", "outputs", name)));
        return doc.RootElement.Clone();
    }

    // Every property the vendor's documented example has is in ours, with the same JSON kind;
    // arrays are compared by their first element. Returns the paths that differ.
    public static List<string> ShapeDifferences(JsonElement expected, JsonElement actual, string path = "$")
    {
        var problems = new List<string>();
        if (expected.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? actual.ValueKind is not (JsonValueKind.True or JsonValueKind.False)
            : expected.ValueKind != actual.ValueKind)
        {
            problems.Add($"{path}: {expected.ValueKind} expected, got {actual.ValueKind}");
            return problems;
        }
        if (expected.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in expected.EnumerateObject())
            {
                if (!actual.TryGetProperty(property.Name, out var value))
                {
                    problems.Add($"{path}.{property.Name}: missing");
                    continue;
                }
                // Free-form objects (custom_details) only need to be objects.
                if (property.Name != "custom_details")
                {
                    problems.AddRange(ShapeDifferences(property.Value, value, $"{path}.{property.Name}"));
                }
            }
        }
        else if (expected.ValueKind == JsonValueKind.Array && expected.GetArrayLength() > 0 && actual.GetArrayLength() > 0)
        {
            problems.AddRange(ShapeDifferences(expected[0], actual[0], path + "[0]"));
        }
        return problems;
    }
}
