using System.Text.Json.Serialization;

namespace Failmail.Batching;

// Source-generated (AOT-clean) JSON for DigestDocument, in camelCase.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, MaxDepth = 8)]
[JsonSerializable(typeof(DigestDocument))]
internal sealed partial class DigestJsonContext : JsonSerializerContext;
