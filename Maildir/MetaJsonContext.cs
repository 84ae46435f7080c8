using System.Text.Json.Serialization;

namespace Failmail.Maildir;

// Source-generated (AOT): compact, Go field names as written, nulls omitted. The default
// encoder escapes < > & as \u003c \u003e \u0026, as Go's encoder did.
[JsonSourceGenerationOptions(
    WriteIndented = false,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(MetaRecord))]
internal sealed partial class MetaJsonContext : JsonSerializerContext;
