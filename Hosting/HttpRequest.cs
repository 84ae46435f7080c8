using System.Net;

namespace Failmail.Hosting;

// One request as an IHttpApi sees it: the head, the whole body (bounded by
// HttpStatsServer.MaxBodyBytes), the client's address and whether it came over TLS.
internal sealed record HttpRequest(HttpRequestHead Head, byte[] Body, IPAddress Remote, bool Tls);
