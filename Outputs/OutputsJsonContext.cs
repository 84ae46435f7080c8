using System.Text.Json.Serialization;

namespace Failmail.Outputs;

// Source-generated (AOT) for everything the outputs persist: queue entries and the
// fail-dir's JSON files.
[JsonSourceGenerationOptions(
    WriteIndented = false,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OutputEntry))]
[JsonSerializable(typeof(OutputFailure))]
internal sealed partial class OutputsJsonContext : JsonSerializerContext;
