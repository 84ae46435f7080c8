using System.Text;
using Failmail.Hosting;

namespace Failmail.Tests.Hosting;

public sealed class HttpRequestParserTests
{
    private const string Curl = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:8025\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n";

    [Fact]
    public void EveryPrefixOfAHeadIsIncomplete()
    {
        var bytes = Encoding.ASCII.GetBytes(Curl);
        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Equal(HttpParseStatus.Incomplete, HttpRequestParser.TryParse(bytes.AsSpan(0, length), out _, out _));
        }
    }

    [Fact]
    public void AHeadParsesToMethodPathAndKeepAlive()
    {
        var status = Parse(Curl, out var head, out var consumed);

        Assert.Equal(HttpParseStatus.Complete, status);
        Assert.Equal(new HttpRequestHead("GET", "/metrics", KeepAlive: true, HasBody: false) { Host = head.Host }, head);
        Assert.NotNull(head.Host);
        Assert.Equal(Curl.Length, consumed);
    }

    [Fact]
    public void PipelinedRequestsAreTakenOneAtATime()
    {
        var two = "GET /healthz HTTP/1.1\r\n\r\n" + Curl;

        Assert.Equal(HttpParseStatus.Complete, Parse(two, out var first, out var consumed));
        Assert.Equal("/healthz", first.Path);
        Assert.Equal(HttpParseStatus.Complete, Parse(two[consumed..], out var second, out _));
        Assert.Equal("/metrics", second.Path);
    }

    [Theory]
    [InlineData("GET /?x=1 HTTP/1.1\r\n\r\n", "/", true)]
    [InlineData("GET /metrics#frag HTTP/1.1\r\n\r\n", "/metrics", true)]
    [InlineData("GET / HTTP/1.0\r\n\r\n", "/", false)]
    [InlineData("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", "/", false)]
    [InlineData("GET / HTTP/1.1\r\nconnection: Keep-Alive, CLOSE\r\n\r\n", "/", false)]
    [InlineData("GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", "/", true)]
    [InlineData("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "/", true)]
    public void PathAndKeepAliveFollowRfc9112(string request, string path, bool keepAlive)
    {
        Assert.Equal(HttpParseStatus.Complete, Parse(request, out var head, out _));
        Assert.Equal(path, head.Path);
        Assert.Equal(keepAlive, head.KeepAlive);
    }

    [Theory]
    [InlineData("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")]
    public void ARequestWithABodyClosesTheConnection(string request)
    {
        Assert.Equal(HttpParseStatus.Complete, Parse(request, out var head, out _));
        Assert.True(head.HasBody);
        Assert.False(head.KeepAlive);
    }

    [Theory]
    [InlineData("\r\n\r\n")]
    [InlineData("GET\r\n\r\n")]
    [InlineData("GET / HTTP/2.0\r\n\r\n")]
    [InlineData("GET http://x/ HTTP/1.1\r\n\r\n")]
    [InlineData("GET  / HTTP/1.1\r\n\r\n")]
    [InlineData("G(T / HTTP/1.1\r\n\r\n")]
    [InlineData("GET /\u0001 HTTP/1.1\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost : x\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nno colon\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n")]
    public void MalformedHeadsAreInvalid(string request)
    {
        Assert.Equal(HttpParseStatus.Invalid, Parse(request, out _, out _));
    }

    [Fact]
    public void AHeadThatDoesNotEndWithinTheLimitIsTooLarge()
    {
        var big = "GET / HTTP/1.1\r\nX: " + new string('a', HttpRequestParser.MaxHeadBytes) + "\r\n\r\n";

        Assert.Equal(HttpParseStatus.TooLarge, Parse(big, out _, out _));
        Assert.Equal(HttpParseStatus.Incomplete, Parse(big[..(HttpRequestParser.MaxHeadBytes - 1)], out _, out _));
    }

    // Issue 15: what the API reads from a head.
    [Fact]
    public void TheApiFieldsQueryAndBodyLengthAreRead()
    {
        var status = Parse("POST /api/v1/silences?limit=5&before=x#frag HTTP/1.1\r\nHost: 127.0.0.1:8025\r\nOrigin: http://127.0.0.1:8025\r\n"
            + "Authorization: Bearer abc\r\nContent-Length: 11\r\n\r\n{\"a\":\"bcd\"}", out var head, out var consumed);

        Assert.Equal(HttpParseStatus.Complete, status);
        Assert.Equal("/api/v1/silences", head.Path);
        Assert.Equal("limit=5&before=x", head.Query);
        Assert.Equal("127.0.0.1:8025", head.Host);
        Assert.Equal("http://127.0.0.1:8025", head.Origin);
        Assert.Equal("Bearer abc", head.Authorization);
        Assert.Equal(11, head.ContentLength);
        Assert.True(head.HasBody);
        Assert.False(head.KeepAlive);
        Assert.Equal(consumed + 11, Encoding.ASCII.GetByteCount("POST /api/v1/silences?limit=5&before=x#frag HTTP/1.1\r\nHost: 127.0.0.1:8025\r\nOrigin: http://127.0.0.1:8025\r\n"
            + "Authorization: Bearer abc\r\nContent-Length: 11\r\n\r\n{\"a\":\"bcd\"}"));
    }

    [Theory]
    [InlineData("Content-Length: -1\r\n")]
    [InlineData("Content-Length: 1x\r\n")]
    [InlineData("Content-Length: \r\n")]
    [InlineData("Content-Length: 5\r\nContent-Length: 6\r\n")]
    [InlineData("Content-Length: 1234567890123456\r\n")]
    public void ABadOrConflictingContentLengthIsInvalid(string field)
    {
        Assert.Equal(HttpParseStatus.Invalid, Parse("POST /api/v1/silences HTTP/1.1\r\n" + field + "\r\n", out _, out _));
    }

    [Fact]
    public void AChunkedBodyHasNoLengthAndControlBytesInFieldsAreMasked()
    {
        Assert.Equal(HttpParseStatus.Complete, Parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nOrigin: h\u00e9\r\n\r\n", out var head, out _));
        Assert.Equal(-1, head.ContentLength);
        Assert.Equal("h?", head.Origin);
    }

    private static HttpParseStatus Parse(string request, out HttpRequestHead head, out int consumed) =>
        HttpRequestParser.TryParse(Encoding.Latin1.GetBytes(request), out head, out consumed);
}
