using System.Text.Json.Serialization;

namespace Failmail.Silences;

// Source-generated JSON (AOT): camelCase as Alertmanager writes it, nulls left out.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SilenceDocument))]
[JsonSerializable(typeof(List<SilenceDocument>))]
internal sealed partial class SilenceJsonContext : JsonSerializerContext;
