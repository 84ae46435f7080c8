using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Failmail.Api;
using Failmail.Config;
using Failmail.GoSyntax;
using Failmail.Silences;

namespace Failmail.Cli;

// `failmail [flags] ctl [--http ADDR] [-o table|json] COMMAND`: the API's client, after
// amtool. ADDR defaults to the daemon's --bind-http (root flags or --config before `ctl`),
// and its --http-token-file and --http-tls-cert are used too. Exit 0 ok, 1 the server
// refused or could not be reached, 2 bad usage.
internal sealed class CtlCommand : Command
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly FailmailCommand _root;
    private readonly Option<string> _http = new("--http") { Description = "the API's address (default: --bind-http)", Recursive = true };
    private readonly Option<string> _output = new("--output", "-o") { Description = "table or json", DefaultValueFactory = _ => "table", Recursive = true };

    public CtlCommand(FailmailCommand root)
        : base("ctl", "look at and steer a running failmail through its API (batches, digests, queue, silences)")
    {
        ArgumentNullException.ThrowIfNull(root);
        _root = root;
        Options.Add(_http);
        Options.Add(_output);
        Subcommands.Add(Simple("batches", "open batches, soonest first", "batches"));
        Subcommands.Add(Simple("digests", "the last digests sent (newest first)", "digests"));
        Subcommands.Add(Simple("queue", "the outgoing queue: attempts, next retry, last error", "queue"));
        Subcommands.Add(Simple("failed", "the fail-dir", "failed"));
        Subcommands.Add(WithId("show", "a digest's full text", id => (HttpMethod.Get, "digests/" + Uri.EscapeDataString(id))));
        Subcommands.Add(WithId("flush", "send an open batch now", id => (HttpMethod.Post, $"batches/{Uri.EscapeDataString(id)}/flush")));
        Subcommands.Add(WithId("resend", "queue a fail-dir message again", id => (HttpMethod.Post, $"failed/{Uri.EscapeDataString(id)}/resend")));
        var silence = new Command("silence", "silences: add, ls, expire");
        silence.Subcommands.Add(Simple("ls", "silences, active and expired", "silences"));
        silence.Subcommands.Add(WithId("expire", "end a silence now", id => (HttpMethod.Delete, "silences/" + Uri.EscapeDataString(id))));
        silence.Subcommands.Add(SilenceAdd());
        Subcommands.Add(silence);
    }

    private Command Simple(string name, string description, string path)
    {
        var command = new Command(name, description);
        command.SetAction((result, token) => RunAsync(result, HttpMethod.Get, path, null, name, token));
        return command;
    }

    private Command WithId(string name, string description, Func<string, (HttpMethod, string)> route)
    {
        var id = new Argument<string>("ID");
        var command = new Command(name, description) { id };
        command.SetAction((result, token) =>
        {
            var (method, path) = route(result.GetValue(id) ?? "");
            return RunAsync(result, method, path, null, name, token);
        });
        return command;
    }

    private Command SilenceAdd()
    {
        var matchers = new Argument<string[]>("MATCHER") { Description = "name=value, name!=value, name=~regex or name!~regex; names: subject, from, to, batch_key, group_key, header:Name", Arity = ArgumentArity.OneOrMore };
        var duration = new Option<string>("--duration", "-d") { Description = "how long (Go duration, e.g. 2h)", DefaultValueFactory = _ => "1h" };
        var comment = new Option<string>("--comment", "-c") { Description = "why", DefaultValueFactory = _ => "" };
        var author = new Option<string>("--author", "-a") { Description = "who", DefaultValueFactory = _ => Environment.UserName };
        var command = new Command("add", "silence messages matching every MATCHER") { matchers, duration, comment, author };
        command.SetAction(async (result, token) =>
        {
            var errors = result.InvocationConfiguration.Error;
            if (!GoDuration.TryParse(result.GetValue(duration) ?? "", out var length, out var problem) || length <= TimeSpan.Zero)
            {
                await errors.WriteLineAsync($"failmail ctl: --duration: {problem ?? "must be positive"}").ConfigureAwait(false);
                return FailmailCommand.UsageError;
            }
            var document = new SilenceDocument
            {
                Matchers = [],
                StartsAt = DateTimeOffset.UtcNow,
                EndsAt = DateTimeOffset.UtcNow + length,
                CreatedBy = result.GetValue(author) ?? "",
                Comment = result.GetValue(comment) ?? "",
            };
            foreach (var text in result.GetValue(matchers) ?? [])
            {
                if (ParseMatcher(text) is not { } matcher)
                {
                    await errors.WriteLineAsync($"failmail ctl: bad matcher {text}: want name=value, name!=value, name=~regex or name!~regex").ConfigureAwait(false);
                    return FailmailCommand.UsageError;
                }
                document.Matchers.Add(matcher);
            }
            var body = JsonSerializer.Serialize(document, ApiJsonContext.Default.SilenceDocument);
            return await RunAsync(result, HttpMethod.Post, "silences", body, "silence add", token).ConfigureAwait(false);
        });
        return command;
    }

    // amtool's matcher syntax.
    internal static MatcherDocument? ParseMatcher(string text)
    {
        foreach (var (op, equal, regex) in new[] { ("!~", false, true), ("=~", true, true), ("!=", false, false), ("=", true, false) })
        {
            var at = text.IndexOf(op, StringComparison.Ordinal);
            if (at > 0)
            {
                var value = text[(at + op.Length)..];
                if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
                {
                    value = value[1..^1];
                }
                return new MatcherDocument { Name = text[..at], Value = value, IsEqual = equal, IsRegex = regex };
            }
        }
        return null;
    }

    private async Task<int> RunAsync(ParseResult result, HttpMethod method, string path, string? body, string what, CancellationToken cancellationToken)
    {
        var output = result.InvocationConfiguration.Output;
        var errors = result.InvocationConfiguration.Error;
        if (!_root.TryPrepare(result, out var options, out var error))
        {
            await errors.WriteLineAsync($"failmail: {error}").ConfigureAwait(false);
            return FailmailCommand.UsageError;
        }
        var format = result.GetValue(_output) ?? "table";
        if (format is not ("table" or "json"))
        {
            await errors.WriteLineAsync("failmail ctl: -o must be table or json").ConfigureAwait(false);
            return FailmailCommand.UsageError;
        }
        var address = result.GetValue(_http) is { Length: > 0 } given ? given : options.BindHttp;
        var tls = options.HttpTlsCert.Length > 0;
        Uri baseUri;
        try
        {
            baseUri = BaseUri(address, tls);
        }
        catch (ArgumentException e)
        {
            await errors.WriteLineAsync($"failmail ctl: --http {address}: {e.Message}").ConfigureAwait(false);
            return FailmailCommand.UsageError;
        }
        using var handler = new SocketsHttpHandler();
        X509Certificate2? pinned = null;
        if (tls && File.Exists(options.HttpTlsCert))
        {
            // The daemon's own certificate (often self-signed) is trusted, as well as the system's roots.
            pinned = X509CertificateLoader.LoadCertificateFromFile(options.HttpTlsCert);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                errors == System.Net.Security.SslPolicyErrors.None || (certificate is not null && certificate.GetCertHashString() == pinned.GetCertHashString());
        }
        using var client = new HttpClient(handler) { Timeout = RequestTimeout };
        using var request = new HttpRequestMessage(method, new Uri(baseUri, "api/v1/" + path));
        if (options.HttpTokenFile.Length > 0)
        {
            try
            {
                var token = File.ReadLines(options.HttpTokenFile).FirstOrDefault()?.Trim() ?? "";
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await errors.WriteLineAsync($"failmail ctl: --http-token-file: {e.Message}").ConfigureAwait(false);
                return FailmailCommand.UsageError;
            }
        }
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        string text;
        HttpStatusCode status;
        try
        {
            using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            status = response.StatusCode;
            text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await errors.WriteLineAsync($"failmail ctl: {baseUri}: {e.Message}").ConfigureAwait(false);
            pinned?.Dispose();
            return 1;
        }
        pinned?.Dispose();
        if (status != HttpStatusCode.OK)
        {
            var message = text;
            try
            {
                message = JsonSerializer.Deserialize(text, ApiJsonContext.Default.ErrorDocument)?.Error ?? text;
            }
            catch (JsonException)
            {
            }
            await errors.WriteLineAsync($"failmail ctl: {what}: {(int)status} {message}").ConfigureAwait(false);
            return 1;
        }
        if (format == "json")
        {
            await output.WriteLineAsync(text).ConfigureAwait(false);
            return 0;
        }
        // A change (flush, resend, expire, add) prints the id it acted on.
        await output.WriteAsync(CtlTables.Render(method == HttpMethod.Get ? path : "changed", text)).ConfigureAwait(false);
        return 0;
    }

    // host:port as --bind-http writes it (":8025" and "0.0.0.0:8025" mean this host).
    private static Uri BaseUri(string address, bool tls)
    {
        var endpoint = BindAddress.Parse("--http", address).Resolve();
        var host = endpoint.Address.Equals(IPAddress.Any) ? "127.0.0.1"
            : endpoint.Address.Equals(IPAddress.IPv6Any) ? "[::1]"
            : endpoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]" : endpoint.Address.ToString();
        return new Uri(string.Create(CultureInfo.InvariantCulture, $"{(tls ? "https" : "http")}://{host}:{endpoint.Port}/"));
    }
}
