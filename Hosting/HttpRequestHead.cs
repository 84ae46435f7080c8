namespace Failmail.Hosting;

// What the stats server needs from a request head (RFC 9112 §3, §6): the method, the path
// without its query, whether the connection may serve another request, and whether a body
// follows (the server answers without reading one, then closes).
internal readonly record struct HttpRequestHead(string Method, string Path, bool KeepAlive, bool HasBody);
