using System.Text.Encodings.Web;
using System.Text.Json;

namespace Failmail.Outputs;

// Payloads are written with Utf8JsonWriter (no reflection, AOT-clean): each renderer writes
// exactly the vendor's documented fields.
internal static class JsonPayload
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            write(writer);
        }
        return buffer.ToArray();
    }
}
