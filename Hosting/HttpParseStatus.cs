namespace Failmail.Hosting;

// HttpRequestParser's answer: wait for more bytes, a head to serve, 400, or 431.
internal enum HttpParseStatus
{
    Incomplete,
    Complete,
    Invalid,
    TooLarge,
}
