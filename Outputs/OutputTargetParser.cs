using System.Diagnostics.CodeAnalysis;

namespace Failmail.Outputs;

// A transport map TARGET: `smtp`, `KIND+URL` for the HTTP services (the URL after "+" is the
// literal endpoint), `pagerduty:ROUTING_KEY`, or `irc://` / `ircs://`. ${ENV} is expanded
// first; a target `file:/path` is the first line of that file, and so is any query value or
// PagerDuty key written as file:/path.
internal static class OutputTargetParser
{
    public const string PagerDutyEnqueue = "https://events.pagerduty.com/v2/enqueue";

    public static bool TryParse(string text, Func<string, string?> environment, [NotNullWhen(true)] out OutputTarget? target, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        target = null;
        var written = text.Trim();
        if (written.Equals("smtp", StringComparison.OrdinalIgnoreCase))
        {
            target = new OutputTarget { Kind = OutputKind.Smtp, Text = "smtp" };
            error = "";
            return true;
        }
        if (!SecretText.TryExpandEnvironment(written, environment, out var expanded, out error)
            || !SecretText.TryReadFileValue(expanded, out expanded, out error))
        {
            return false;
        }
        if (expanded.StartsWith("pagerduty:", StringComparison.OrdinalIgnoreCase) && !expanded.StartsWith("pagerduty:/", StringComparison.Ordinal))
        {
            // pagerduty:KEY[?severity=...]
            var rest = expanded["pagerduty:".Length..];
            var q = rest.IndexOf('?', StringComparison.Ordinal);
            var key = q < 0 ? rest : rest[..q];
            var query = Query.Parse(q < 0 ? "" : rest[(q + 1)..]);
            if (!SecretText.TryReadFileValue(key, out key, out error))
            {
                return false;
            }
            if (key.Length == 0)
            {
                error = "pagerduty: needs a routing key (pagerduty:KEY)";
                return false;
            }
            return TrySeverity(query.Get("severity"), out var severity, out error)
                && Made(new OutputTarget { Kind = OutputKind.PagerDuty, Text = written, Endpoint = new Uri(PagerDutyEnqueue), RoutingKey = key, Severity = severity }, out target);
        }
        if (expanded.StartsWith("irc://", StringComparison.OrdinalIgnoreCase) || expanded.StartsWith("ircs://", StringComparison.OrdinalIgnoreCase))
        {
            var ircError = "";
            if (!Uri.TryCreate(expanded, UriKind.Absolute, out var irc) || irc.Host.Length == 0 || !Irc.IrcTarget.TryParse(expanded, out _, out ircError))
            {
                error = $"not an IRC target (irc://nick@host:6667/channel){(ircError.Length > 0 ? ": " + ircError : "")}: {Redacted(written)}";
                return false;
            }
            return Made(new OutputTarget { Kind = OutputKind.Irc, Text = written, Endpoint = irc }, out target);
        }
        var plus = expanded.IndexOf('+', StringComparison.Ordinal);
        var colon = expanded.IndexOf(':', StringComparison.Ordinal);
        if (plus <= 0 || (colon >= 0 && colon < plus))
        {
            error = $"unknown target {Redacted(written)} (smtp, slack+URL, discord+URL, teams+URL, pagerduty:KEY, pagerduty+URL, twilio+URL, webhook+URL, irc:// or ircs://)";
            return false;
        }
        var kindName = expanded[..plus].ToLowerInvariant();
        OutputKind? kind = kindName switch
        {
            "slack" => OutputKind.Slack,
            "discord" => OutputKind.Discord,
            "teams" => OutputKind.Teams,
            "pagerduty" => OutputKind.PagerDuty,
            "twilio" => OutputKind.Twilio,
            "webhook" => OutputKind.Webhook,
            _ => null,
        };
        if (kind is null)
        {
            error = $"unknown output {kindName}+ (slack, discord, teams, pagerduty, twilio or webhook)";
            return false;
        }
        // KIND+file:/path: the endpoint itself is kept in a file (it holds its token).
        if (!SecretText.TryReadFileValue(expanded[(plus + 1)..], out var endpointText, out error))
        {
            return false;
        }
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            error = $"{kindName}+: the part after + must be an http:// or https:// URL";
            return false;
        }
        return TryHttp(kind.Value, written, url, out target, out error);
    }

    private static bool TryHttp(OutputKind kind, string written, Uri url, [NotNullWhen(true)] out OutputTarget? target, out string error)
    {
        target = null;
        var query = Query.Parse(url.Query.TrimStart('?'));
        // failmail's own parameters; every other one stays in the endpoint.
        string[] ours = kind switch
        {
            OutputKind.PagerDuty => ["routing_key", "severity"],
            OutputKind.Twilio => ["from", "to", "auth"],
            OutputKind.Webhook => ["secret"],
            _ => [],
        };
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in ours)
        {
            var raw = query.Get(name) ?? "";
            if (!SecretText.TryReadFileValue(raw, out var value, out error))
            {
                error = $"?{name}=: {error}";
                return false;
            }
            values[name] = value;
            query.Remove(name);
        }
        var builder = new UriBuilder(url) { Query = query.ToString(), UserName = "", Password = "" };
        var endpoint = builder.Uri;
        var user = Uri.UnescapeDataString(url.UserInfo.Split(':')[0]);
        var password = url.UserInfo.Contains(':', StringComparison.Ordinal) ? Uri.UnescapeDataString(url.UserInfo[(url.UserInfo.IndexOf(':', StringComparison.Ordinal) + 1)..]) : "";
        error = "";
        switch (kind)
        {
            case OutputKind.PagerDuty:
                if (values["routing_key"].Length == 0)
                {
                    error = "pagerduty+URL: needs ?routing_key=KEY";
                    return false;
                }
                if (!TrySeverity(values["severity"], out var severity, out error))
                {
                    return false;
                }
                target = new OutputTarget { Kind = kind, Text = written, Endpoint = endpoint, RoutingKey = values["routing_key"], Severity = severity };
                return true;
            case OutputKind.Twilio:
                if (values["auth"].Length > 0)
                {
                    var split = values["auth"].IndexOf(':', StringComparison.Ordinal);
                    (user, password) = split < 0 ? (values["auth"], "") : (values["auth"][..split], values["auth"][(split + 1)..]);
                }
                if (user.Length == 0 || password.Length == 0)
                {
                    error = "twilio+URL: needs ACCOUNT_SID:AUTH_TOKEN as the URL's userinfo or ?auth=file:/path";
                    return false;
                }
                if (values["from"].Length == 0 || values["to"].Length == 0)
                {
                    error = "twilio+URL: needs ?from=NUMBER&to=NUMBER";
                    return false;
                }
                target = new OutputTarget { Kind = kind, Text = written, Endpoint = endpoint, User = user, Password = password, From = values["from"], To = values["to"] };
                return true;
            case OutputKind.Webhook:
                target = new OutputTarget { Kind = kind, Text = written, Endpoint = endpoint, Secret = System.Text.Encoding.UTF8.GetBytes(values["secret"]) };
                return true;
            default:
                target = new OutputTarget { Kind = kind, Text = written, Endpoint = endpoint };
                return true;
        }
    }

    private static bool TrySeverity(string? value, out string severity, out string error)
    {
        severity = "";
        error = "";
        if (string.IsNullOrEmpty(value))
        {
            return true;
        }
        severity = OutputSeverity.Normalize(value);
        if (severity.Length == 0)
        {
            error = $"?severity={value}: must be one of {string.Join(", ", OutputSeverity.Known)}";
            return false;
        }
        return true;
    }

    private static bool Made(OutputTarget made, out OutputTarget target)
    {
        target = made;
        return true;
    }

    // The target's kind and host only, for error lines: the rest may be a token.
    public static string Redacted(string text)
    {
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return text.Length > 12 ? text[..12] + "…" : text;
        }
        var hostEnd = text.IndexOf('/', scheme + 3);
        var head = hostEnd < 0 ? text : text[..hostEnd];
        var at = head.LastIndexOf('@');
        return (at > scheme ? head[..(scheme + 3)] + head[(at + 1)..] : head) + (hostEnd < 0 ? "" : "/…");
    }
}
