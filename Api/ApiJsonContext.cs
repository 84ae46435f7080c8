using System.Text.Json.Serialization;
using Failmail.Silences;

namespace Failmail.Api;

// Source-generated JSON for /api/v1 (AOT-clean): camelCase, as Alertmanager writes it.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<BatchDocument>))]
[JsonSerializable(typeof(List<HistoryDocument>))]
[JsonSerializable(typeof(HistoryDocument))]
[JsonSerializable(typeof(List<QueueDocument>))]
[JsonSerializable(typeof(List<FailedDocument>))]
[JsonSerializable(typeof(StatusDocument))]
[JsonSerializable(typeof(ErrorDocument))]
[JsonSerializable(typeof(OkDocument))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(SilenceDocument))]
[JsonSerializable(typeof(List<SilenceDocument>))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
