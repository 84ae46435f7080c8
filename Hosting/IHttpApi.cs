namespace Failmail.Hosting;

// Routes the stats server hands on (issue 15: /api/ and /ui/), served by a folder above
// Hosting. AnswerAsync must not throw for bad input; it runs off the socket engine's thread.
internal interface IHttpApi
{
    bool Handles(string path);

    Task<HttpResponse> AnswerAsync(HttpRequest request, CancellationToken cancellationToken);
}
