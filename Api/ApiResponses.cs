using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Failmail.Hosting;

namespace Failmail.Api;

// The API's answers: JSON through the source-generated context, errors as {"error": "..."}
// with their status, and the query-string readers the endpoints share.
internal static class ApiResponses
{
    public static readonly ApiJsonContext Json = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    });

    public static bool TryLimit(HttpRequest request, out int limit, [NotNullWhen(false)] out HttpResponse? bad)
    {
        limit = ApiServer.DefaultLimit;
        bad = null;
        if (Query(request, "limit") is not { } text)
        {
            return true;
        }
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > ApiServer.MaxLimit)
        {
            bad = Error(400, $"limit must be a number from 1 to {ApiServer.MaxLimit}");
            return false;
        }
        return true;
    }

    public static string? Query(HttpRequest request, string name)
    {
        if (request.Head.Query is not { } query)
        {
            return null;
        }
        foreach (var pair in query.Split('&'))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = eq < 0 ? pair : pair[..eq];
            if (key == name)
            {
                return Uri.UnescapeDataString((eq < 0 ? "" : pair[(eq + 1)..]).Replace('+', ' '));
            }
        }
        return null;
    }

    public static HttpResponse Ok<T>(T value, JsonTypeInfo<T> type) => new(200, "application/json", Serialize(value, type));

    public static byte[] Serialize<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.SerializeToUtf8Bytes(value, type);

    public static HttpResponse Error(int status, string message) =>
        new(status, "application/json", JsonSerializer.SerializeToUtf8Bytes(new ErrorDocument { Error = message }, Json.ErrorDocument))
        {
            Headers = status == 405 ? [new("Allow", "GET, POST, DELETE")] : [],
        };
}
