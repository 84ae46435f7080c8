using Failmail.Hosting;
using static Failmail.Api.ApiResponses;

namespace Failmail.Api;

// /ui/: the console's files, embedded in the binary (ConsoleAssets), under a strict
// Content-Security-Policy. They load without the API's token (a browser cannot send a bearer
// header when it opens a page); every /api/ call the page makes needs it.
internal static class ConsolePage
{
    public static HttpResponse Answer(HttpRequest request)
    {
        var path = request.Head.Path;
        if (request.Head.Method != "GET")
        {
            return Error(405, "the console is read with GET");
        }
        if (path == "/ui")
        {
            return new HttpResponse(308, "text/plain", []) { Headers = [new("Location", "/ui/")] };
        }
        var name = path == "/ui/" ? "index.html" : path["/ui/".Length..];
        if (ConsoleAssets.Find(name) is not { } file)
        {
            return Error(404, "no such file");
        }
        return new HttpResponse(200, file.Type, file.Bytes)
        {
            // The page runs only its own script and talks only to this server.
            Headers =
            [
                new("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"),
                new("X-Content-Type-Options", "nosniff"),
                new("Referrer-Policy", "no-referrer"),
            ],
        };
    }
}
