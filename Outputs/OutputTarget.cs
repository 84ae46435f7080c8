using System.Security.Cryptography;
using System.Text;

namespace Failmail.Outputs;

// One target of the transport map, parsed and with its secrets expanded (OutputTargetParser).
// Id names the output's queue directory, its metrics and its fail-dir files: a hash of the
// target as written in the map (before ${ENV} and file: expansion), so rotating a secret
// keeps the queue. Display is for logs and /metrics: no secret in it.
internal sealed record OutputTarget
{
    public required OutputKind Kind { get; init; }

    // The target as written in the map.
    public required string Text { get; init; }

    // Where to post: the literal endpoint after "+", without failmail's own query parameters.
    // For irc/ircs the irc URL itself; null for smtp.
    public Uri? Endpoint { get; init; }

    public string RoutingKey { get; init; } = "";

    // ?severity= (PagerDuty): the default when the messages name none.
    public string Severity { get; init; } = "";

    // ?secret= (webhook): the HMAC-SHA256 key; empty: unsigned.
    public byte[] Secret { get; init; } = [];

    // Twilio: Basic auth and the numbers.
    public string User { get; init; } = "";
    public string Password { get; init; } = "";
    public string From { get; init; } = "";
    public string To { get; init; } = "";

    public string Id => Kind == OutputKind.Smtp ? "smtp" : $"{Kind.ToString().ToLowerInvariant()}-{Hash(Text)}";

    public string Display => Kind switch
    {
        OutputKind.Smtp => "smtp",
        _ when Endpoint is null => Id,
        // Host and the first path segment only: webhook URLs carry their token in the path.
        _ => $"{Kind.ToString().ToLowerInvariant()} {Endpoint.Scheme}://{Endpoint.Authority.Split('@')[^1]}/… ({Id})",
    };

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];
}
