using Failmail.Relay;
using Microsoft.Extensions.Time.Testing;
using static Failmail.Tests.Relay.RelayTestKit;

namespace Failmail.Tests.Relay;

// AUTH against TestSmtpServer on 127.0.0.1 (loopback, so plain text is allowed) and the
// settings behind it.
public class RelayCredentialsTests
{
    [Theory]
    [InlineData("", "PLAIN")]
    [InlineData("LOGIN", "LOGIN")]
    [InlineData("login", "LOGIN")]
    [InlineData("CRAM-MD5,PLAIN", "PLAIN")]
    public async Task TheAllowListNarrowsWhatMailKitNegotiates(string allowed, string used)
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer(null, "alerts", "secret", "PLAIN LOGIN");
        var options = Options(dir, server.Address) with { RelayUser = "alerts", RelayPassword = "secret", RelayAuthMechanisms = allowed };

        Assert.Null(await TrySendAsync(options));

        Assert.Equal($"alerts {used}", (await server.ReceiveAsync()).AuthUser);
        Assert.Equal(0, server.AuthFailures);
    }

    [Theory]
    [InlineData("", "CRAM-MD5")]
    [InlineData("PLAIN,LOGIN", "PLAIN")]
    public async Task MailKitPrefersTheStrongerMechanismUnlessTheAllowListSaysOtherwise(string allowed, string used)
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer(null, "alerts", "secret", "PLAIN LOGIN CRAM-MD5");
        var options = Options(dir, server.Address) with { RelayUser = "alerts", RelayPassword = "secret", RelayAuthMechanisms = allowed };

        Assert.Null(await TrySendAsync(options));

        Assert.Equal($"alerts {used}", (await server.ReceiveAsync()).AuthUser);
        Assert.Equal(0, server.AuthFailures);
    }

    [Fact]
    public async Task NoCommonMechanismNamesBothSidesAndSendsNoAuth()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer(null, "alerts", "secret", "PLAIN LOGIN");
        var options = Options(dir, server.Address) with { RelayUser = "alerts", RelayPassword = "secret", RelayAuthMechanisms = "CRAM-MD5" };

        var failure = await TrySendAsync(options);

        Assert.NotNull(failure);
        Assert.Equal(RelayFailureKind.ConnectionTransient, failure.Kind);
        Assert.Equal("no common authentication mechanism (server offers PLAIN,LOGIN, allowed CRAM-MD5)", failure.Message);
        Assert.Equal(0, server.AuthFailures);
        Assert.Empty(server.Messages);
    }

    [Fact]
    public async Task ARelayWithoutAuthIsNamedAsSuch()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer();

        var failure = await TrySendAsync(Options(dir, server.Address) with { RelayUser = "alerts", RelayPassword = "secret" });

        Assert.NotNull(failure);
        Assert.Contains("offers no authentication", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARejectedPasswordQuotesTheReply()
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer(null, "alerts", "secret", "LOGIN");

        var failure = await TrySendAsync(Options(dir, server.Address) with { RelayUser = "alerts", RelayPassword = "wrong" });

        Assert.NotNull(failure);
        Assert.Equal("authentication rejected: 535 5.7.8 authentication failed", failure.Message);
    }

    [Theory]
    [InlineData("pa ss:word\n")]
    [InlineData("pa ss:word\r\n")]
    [InlineData("pa ss:word")]
    [InlineData("pa ss:word\nsecond line\n")]
    public async Task ThePasswordFileGivesItsFirstLine(string content)
    {
        using var dir = new TempDir();
        await using var server = new TestSmtpServer(null, "alerts", "pa ss:word");
        var file = Path.Combine(dir.Path, "relay-password");
        File.WriteAllText(file, content);
        var options = Options(dir, server.Address) with { RelayUser = "alerts", RelayPasswordFile = file };

        Assert.Null(await TrySendAsync(options));

        Assert.StartsWith("alerts ", (await server.ReceiveAsync()).AuthUser, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingPasswordFileIsAStartUpErrorNamingTheFlag()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "missing");
        var error = Assert.Throws<IOException>(() => new SmtpRelayTransport(
            Options(dir, "smtps://relay.example") with { RelayUser = "alerts", RelayPasswordFile = file }, new FakeTimeProvider()));
        Assert.Equal($"--relay-password-file {file}: no such file", error.Message);
    }

    [Fact]
    public void AnEmptyPasswordFileIsAStartUpError()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "empty");
        File.WriteAllText(file, "\nsecret\n");
        var error = Assert.Throws<IOException>(() => RelayCredentials.Load(new FailmailOptions { RelayUser = "alerts", RelayPasswordFile = file }));
        Assert.Contains("--relay-password-file", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoUserAndNoPasswordMeansNoAuth()
    {
        Assert.Null(RelayCredentials.Load(new FailmailOptions { RelayAuthMechanisms = "PLAIN" }));
    }

    [Theory]
    [InlineData("PLAIN,LOGIN", new[] { "PLAIN", "LOGIN" })]
    [InlineData(" plain , Login,PLAIN ", new[] { "PLAIN", "LOGIN" })]
    [InlineData("SCRAM-SHA-256", new[] { "SCRAM-SHA-256" })]
    public void MechanismListsAreParsedCaseInsensitively(string value, string[] expected)
    {
        Assert.True(RelayCredentials.TryParseMechanisms(value, out var mechanisms, out var error), error);
        Assert.Equal(expected, mechanisms);
    }

    [Theory]
    [InlineData("XOAUTH2")]
    [InlineData("PLAIN,,LOGIN")]
    [InlineData("KERBEROS_V4")]
    public void MechanismsMailKitCannotUseWithAPasswordAreRejected(string value)
    {
        Assert.False(RelayCredentials.TryParseMechanisms(value, out _, out var error));
        Assert.Contains("PLAIN", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ThePasswordNeverAppearsInToString()
    {
        Assert.DoesNotContain("hunter2", new RelayCredentials("alerts", "hunter2", null).ToString(), StringComparison.Ordinal);
    }
}
