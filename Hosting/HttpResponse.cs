using System.Text;

namespace Failmail.Hosting;

// An answer from an IHttpApi: a status, a type and a body, plus extra header lines; or, with
// Stream set, a response that stays open (server-sent events): the server writes the head,
// then Stream writes events until the client goes or the server stops, then the connection
// closes.
internal sealed class HttpResponse(int status, string contentType, byte[] body)
{
    public int Status { get; } = status;

    public string ContentType { get; } = contentType;

    public byte[] Body { get; } = body;

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    public Func<Stream, CancellationToken, Task>? Stream { get; init; }

    public static HttpResponse Text(int status, string contentType, string body) => new(status, contentType, Encoding.UTF8.GetBytes(body));
}
