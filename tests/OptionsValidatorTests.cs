using Failmail.Config;

namespace Failmail.Tests;

public class OptionsValidatorTests
{
    private static readonly FailmailOptions Defaults = new();

    private static string SingleError(FailmailOptions options) => Assert.Single(OptionsValidator.Validate(options));

    [Fact]
    public void DefaultsAreValid()
    {
        Assert.Empty(OptionsValidator.Validate(Defaults));
    }

    [Fact]
    public void AFullTlsAndAuthSetupIsValid()
    {
        var options = Defaults with
        {
            Credentials = "user:pa:ss",
            TlsCert = "cert.pem",
            TlsKey = "key.pem",
            Ssl = true,
            RewriteSrc = "^(.*)@old$",
            RewriteDest = "$1@new",
            MessageStore = "",
            MemoryStore = true,
            Poll = TimeSpan.FromMilliseconds(1),
            WaitPeriod = TimeSpan.Zero,
            MaxWait = TimeSpan.Zero,
            ShutdownTimeout = TimeSpan.Zero,
        };
        Assert.Empty(OptionsValidator.Validate(options));
    }

    [Theory]
    [InlineData(":")]
    [InlineData("user:")]
    [InlineData(":password")]
    public void CredentialsWithAColonAreValid(string credentials)
    {
        Assert.Empty(OptionsValidator.Validate(Defaults with { Credentials = credentials }));
    }

    [Fact]
    public void CredentialsWithoutAColonAreRejected()
    {
        Assert.Equal("--credentials: must be in username:password format", SingleError(Defaults with { Credentials = "user" }));
    }

    [Fact]
    public void RewriteSrcWithoutDestIsRejected()
    {
        Assert.StartsWith("--rewrite-src: needs --rewrite-dest", SingleError(Defaults with { RewriteSrc = "x" }), StringComparison.Ordinal);
        Assert.StartsWith("--rewrite-dest: needs --rewrite-src", SingleError(Defaults with { RewriteDest = "x" }), StringComparison.Ordinal);
    }

    [Fact]
    public void GoNamedGroupsAreAccepted()
    {
        Assert.Empty(OptionsValidator.Validate(Defaults with { RewriteSrc = "^(?P<user>.*)@old$", RewriteDest = "${user}@new" }));
    }

    [Fact]
    public void InvalidRewriteRegexIsRejected()
    {
        var error = SingleError(Defaults with { RewriteSrc = "(unclosed", RewriteDest = "x" });
        Assert.StartsWith("--rewrite-src: invalid regular expression: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void HalfATlsPairIsRejected()
    {
        Assert.Equal("--tls-cert: needs --tls-key as well", SingleError(Defaults with { TlsCert = "c.pem" }));
        Assert.Equal("--tls-key: needs --tls-cert as well", SingleError(Defaults with { TlsKey = "k.pem" }));
    }

    [Fact]
    public void SslWithoutCertificateIsRefusedInsteadOfServingPlainText()
    {
        Assert.Equal("--ssl: needs --tls-cert and --tls-key", SingleError(Defaults with { Ssl = true }));
    }

    [Fact]
    public void EmptyMessageStoreNeedsMemoryStore()
    {
        Assert.Equal("--message-store: must not be empty unless --memory-store is set", SingleError(Defaults with { MessageStore = "" }));
    }

    [Fact]
    public void EmptyFailDirAndQueueDirAreRejected()
    {
        Assert.Equal("--fail-dir: must not be empty", SingleError(Defaults with { FailDir = "" }));
        Assert.Equal("--queue-dir: must not be empty", SingleError(Defaults with { QueueDir = "" }));
    }

    [Fact]
    public void ARelayListIsParsedInOrderAndEachBadEntryIsItsOwnLine()
    {
        Assert.Empty(OptionsValidator.Validate(Defaults with { RelayAddr = "hub-a.example:25, smtps://hub-b.example" }));
        var settings = Failmail.Relay.RelaySettings.From(Defaults with { RelayAddr = "hub-a.example:25, smtps://hub-b.example" });
        Assert.Equal(["smtp://hub-a.example:25", "smtps://hub-b.example:465"], settings.Addresses.Select(a => a.Url));
        Assert.Equal("smtp://hub-a.example:25, smtps://hub-b.example:465", settings.Name);

        Assert.Equal(
            [
                "--relay-addr: empty entry in the list 'a:25,,b:0,debug,a:25'",
                "--relay-addr: relay address 'b:0': port must be a number from 1 to 65535",
                "--relay-addr: debug prints digests instead of relaying them and cannot be part of a relay list",
                "--relay-addr: smtp://a:25 is listed twice",
            ],
            OptionsValidator.Validate(Defaults with { RelayAddr = "a:25,,b:0,debug,a:25" }));
        Assert.Equal("--relay-user: refusing to send credentials unencrypted to smtp+plain://hub-b.example:25 (smtp+plain:// allows AUTH only to loopback; use smtp+starttls:// or smtps://)",
            SingleError(Defaults with { RelayAddr = "smtp+plain://127.0.0.1:2525,smtp+plain://hub-b.example", RelayUser = "u", RelayPassword = "p" }));
    }

    [Fact]
    public void NegativeSocketFdIsRejected()
    {
        Assert.Equal("--socket-fd: must not be negative (got -1)", SingleError(Defaults with { SocketFd = -1 }));
    }

    private static FailmailOptions WithDuration(string name, TimeSpan value) => name switch
    {
        "shutdown-timeout" => Defaults with { ShutdownTimeout = value },
        "wait-period" => Defaults with { WaitPeriod = value },
        "max-wait" => Defaults with { MaxWait = value },
        "poll" => Defaults with { Poll = value },
        "command-timeout" => Defaults with { CommandTimeout = value },
        "data-timeout" => Defaults with { DataTimeout = value },
        "relay-timeout" => Defaults with { RelayTimeout = value },
        "retry-min" => Defaults with { RetryMin = value },
        "retry-max" => Defaults with { RetryMax = value },
        "queue-lifetime" => Defaults with { QueueLifetime = value },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [InlineData("shutdown-timeout")]
    [InlineData("wait-period")]
    [InlineData("max-wait")]
    [InlineData("poll")]
    [InlineData("command-timeout")]
    [InlineData("data-timeout")]
    [InlineData("relay-timeout")]
    [InlineData("retry-min")]
    [InlineData("retry-max")]
    [InlineData("queue-lifetime")]
    public void NegativeDurationsAreRejectedByName(string name)
    {
        var error = SingleError(WithDuration(name, TimeSpan.FromSeconds(-1)));
        Assert.StartsWith($"--{name}: must ", error, StringComparison.Ordinal);
        Assert.EndsWith("(got -1s)", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("shutdown-timeout")]
    [InlineData("wait-period")]
    [InlineData("max-wait")]
    public void ZeroIsAllowedWhereItMeansAtOnce(string name)
    {
        Assert.Empty(OptionsValidator.Validate(WithDuration(name, TimeSpan.Zero)));
    }

    [Theory]
    [InlineData("poll")]
    [InlineData("command-timeout")]
    [InlineData("data-timeout")]
    [InlineData("relay-timeout")]
    [InlineData("retry-min")]
    [InlineData("queue-lifetime")]
    public void ZeroIsRejectedWhereATimeMustPass(string name)
    {
        Assert.Equal($"--{name}: must be positive (got 0s)", SingleError(WithDuration(name, TimeSpan.Zero)));
    }

    [Fact]
    public void RetryMaxBelowRetryMinIsRejected()
    {
        var error = SingleError(Defaults with { RetryMin = TimeSpan.FromMinutes(2), RetryMax = TimeSpan.FromMinutes(1) });
        Assert.Equal("--retry-max: must not be less than --retry-min (1m0s < 2m0s)", error);
    }

    [Fact]
    public void LimitsBelowTheirMinimumAreRejected()
    {
        Assert.Equal("--max-message-size: must be at least 1 (got 0)", SingleError(Defaults with { MaxMessageSize = 0 }));
        Assert.Equal("--max-command-line: must be at least 512 (got 511)", SingleError(Defaults with { MaxCommandLine = 511 }));
        Assert.Equal("--max-recipients: must be at least 1 (got -3)", SingleError(Defaults with { MaxRecipients = -3 }));
        Assert.Equal("--max-connections: must be at least 1 (got 0)", SingleError(Defaults with { MaxConnections = 0 }));
    }

    [Fact]
    public void EveryProblemIsReportedOnItsOwnLine()
    {
        var errors = OptionsValidator.Validate(Defaults with { Credentials = "x", Ssl = true, MaxWait = TimeSpan.FromSeconds(-1) });
        Assert.Equal(3, errors.Count);
        Assert.All(errors, e => Assert.DoesNotContain('\n', e));
    }

    [Theory]
    [InlineData("smtp://relay.example.com")]
    [InlineData("smtp+starttls://relay.example.com:2587")]
    [InlineData("smtps://relay.example.com:2465")]
    [InlineData("smtp+plain://relay.example.com")]
    [InlineData("relay.example.com:25")]
    [InlineData("debug")]
    public void RelayUrlsAreValid(string relayAddr)
    {
        Assert.Empty(OptionsValidator.Validate(Defaults with { RelayAddr = relayAddr }));
    }

    [Fact]
    public void AFullSmarthostSetupIsValid()
    {
        var options = Defaults with
        {
            RelayAddr = "smtps://relay.example.com:2465",
            RelayUser = "alerts",
            RelayPasswordFile = "/etc/failmail/relay-password",
            RelayAuthMechanisms = "SCRAM-SHA-256,PLAIN",
            RelayCaFile = "/etc/failmail/relay-ca.pem",
            RelayFingerprint = new string('a', 64),
        };
        Assert.Empty(OptionsValidator.Validate(options));
    }

    [Theory]
    [InlineData("smtpx://relay.example.com", "--relay-addr: relay address 'smtpx://relay.example.com': unknown scheme 'smtpx'")]
    [InlineData("relay.example.com:smtp", "--relay-addr: relay address 'relay.example.com:smtp': port must be")]
    public void ABadRelayAddrIsRejected(string relayAddr, string start)
    {
        Assert.StartsWith(start, SingleError(Defaults with { RelayAddr = relayAddr }), StringComparison.Ordinal);
    }

    [Fact]
    public void ABadFingerprintIsRejected()
    {
        Assert.StartsWith("--relay-fingerprint: 'abc' is not a SHA-256 fingerprint", SingleError(Defaults with { RelayFingerprint = "abc" }), StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownAuthMechanismIsRejected()
    {
        Assert.StartsWith("--relay-auth-mechanisms: 'XOAUTH2' is not a SASL mechanism", SingleError(Defaults with { RelayAuthMechanisms = "PLAIN,XOAUTH2" }), StringComparison.Ordinal);
    }

    [Fact]
    public void PasswordAndPasswordFileTogetherAreRejected()
    {
        Assert.StartsWith("--relay-password-file: give either", SingleError(Defaults with { RelayPassword = "p", RelayPasswordFile = "f" }), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void InsecureContradictsPinAndCaFile(bool pin, bool caFile)
    {
        var options = Defaults with
        {
            RelayInsecure = true,
            RelayFingerprint = pin ? new string('a', 64) : "",
            RelayCaFile = caFile ? "ca.pem" : "",
        };
        Assert.StartsWith("--relay-insecure: contradicts", SingleError(options), StringComparison.Ordinal);
    }

    [Fact]
    public void TlsSettingsWithThePlainSchemeAreRejected()
    {
        var errors = OptionsValidator.Validate(Defaults with { RelayAddr = "smtp+plain://127.0.0.1", RelayCaFile = "ca.pem", RelayFingerprint = new string('a', 64) });
        Assert.Equal(
            [
                "--relay-ca-file: smtp+plain://127.0.0.1:25 never uses TLS (use smtp://, smtp+starttls:// or smtps://)",
                "--relay-fingerprint: smtp+plain://127.0.0.1:25 never uses TLS (use smtp://, smtp+starttls:// or smtps://)",
            ], errors);
    }

    [Theory]
    [InlineData("smtp+plain://relay.example.com", false)]
    [InlineData("smtp+plain://10.1.2.3:25", false)]
    [InlineData("smtp+plain://localhost:2525", true)]
    [InlineData("smtp+plain://127.0.0.1", true)]
    [InlineData("smtp+plain://[::1]", true)]
    public void CredentialsOverThePlainSchemeGoOnlyToLoopback(string relayAddr, bool valid)
    {
        var errors = OptionsValidator.Validate(Defaults with { RelayAddr = relayAddr, RelayUser = "alerts", RelayPassword = "secret" });
        if (valid)
        {
            Assert.Empty(errors);
        }
        else
        {
            Assert.StartsWith("--relay-user: refusing to send credentials unencrypted to smtp+plain://", Assert.Single(errors), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("failmail@host.example")]
    [InlineData("Alerts <failmail@host.example>")]
    [InlineData("a..b@host.example")]
    public void AFromEveryDigestCanCarryIsValid(string from) => Assert.Empty(OptionsValidator.Validate(Defaults with { From = from }));

    [Fact]
    public void AFromNoHeaderCanCarryIsAStartUpError() =>
        Assert.Equal("--from: not a mail address: a b@\\x0d", SingleError(Defaults with { From = "a b@\r" }));

    // issue 13: the storm settings.
    [Fact]
    public void StormSettingsAreChecked()
    {
        Assert.Equal("--page-to: required with --page-threshold (where the storm notice goes)", SingleError(Defaults with { PageThreshold = 100 }));
        Assert.Equal("--page-window: must be positive (got 0s)", SingleError(Defaults with { PageThreshold = 100, PageTo = "oncall@example.com", PageWindow = TimeSpan.Zero }));
        Assert.StartsWith("--first-wait: ", SingleError(Defaults with { FirstWait = TimeSpan.FromSeconds(-1) }), StringComparison.Ordinal);
        Assert.StartsWith("--follow-up-interval: ", SingleError(Defaults with { FollowUpInterval = TimeSpan.FromSeconds(-1) }), StringComparison.Ordinal);
        Assert.StartsWith("--page-threshold: ", SingleError(Defaults with { PageThreshold = -1 }), StringComparison.Ordinal);
        Assert.Empty(OptionsValidator.Validate(Defaults with { PageThreshold = 100, PageTo = "oncall@example.com", FirstWait = TimeSpan.FromSeconds(5), FollowUpInterval = TimeSpan.FromMinutes(10), GroupNormalize = true, ShowHosts = true }));
    }
}
