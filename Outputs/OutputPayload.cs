namespace Failmail.Outputs;

// One rendered post: the body, its content type and any extra headers (auth, signature).
internal sealed record OutputPayload(byte[] Body, string ContentType, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    public const string Json = "application/json";

    public static OutputPayload ForJson(byte[] body) => new(body, Json, []);
}
