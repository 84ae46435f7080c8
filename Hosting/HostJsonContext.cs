using System.Text.Json.Serialization;

namespace Failmail.Hosting;

// Source-generated JSON for the HTTP endpoints: no reflection, AOT-safe.
[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(StatsResponse))]
internal sealed partial class HostJsonContext : JsonSerializerContext;
