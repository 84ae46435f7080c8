namespace Failmail.Hosting;

// What the server needs from a request head (RFC 9112 §3, §6): the method, the path
// without its query, whether the connection may serve another request, and whether a body
// follows. The API (issue 15) also reads the query, the body's length (a body without a
// Content-Length, chunked, is ContentLength -1), and the Host, Origin and Authorization
// fields; absent fields are null.
internal readonly record struct HttpRequestHead(string Method, string Path, bool KeepAlive, bool HasBody)
{
    public string? Query { get; init; }

    public long ContentLength { get; init; }

    public string? Host { get; init; }

    public string? Origin { get; init; }

    public string? Authorization { get; init; }
}
