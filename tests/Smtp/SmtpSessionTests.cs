using System.Text;
using Failmail.Smtp;

namespace Failmail.Tests.Smtp;

public class SmtpSessionTests
{
    private static readonly SmtpLimits Limits = new(1000, 512, 3, 10, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10));

    private static SmtpSession NewSession(SmtpCredentials? credentials = null, bool allowUnencrypted = false, bool tls = false, bool encrypted = false) =>
        new(new SmtpSessionSettings("mx", Limits, credentials, allowUnencrypted, tls), encrypted);

    // AUTH is an EHLO extension (RFC 4954 §4): the AUTH tests greet first.
    private static SmtpSession Ehlo(SmtpSession session)
    {
        Assert.Equal(250, Send(session, "EHLO c").Code);
        return session;
    }

    private static SmtpReply Send(SmtpSession session, string line) =>
        session.Handle(SmtpCommandParser.Parse(Encoding.UTF8.GetBytes(line)));

    private static string Plain(string user, string password) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes("\0" + user + "\0" + password));

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void GreetingNamesTheHost() => Assert.Equal(new SmtpReply(220, "mx ESMTP failmail"), NewSession().Greeting());

    // Issue 16: bare local names (cron's MAIL FROM:<root>) only from this host.
    [Fact]
    public void BareNamesAreTakenFromLoopbackClientsOnly()
    {
        var local = new SmtpSession(new SmtpSessionSettings("mx", Limits), peer: new SmtpPeer(IsLoopback: true, IsAllowed: false));
        Assert.Equal(250, Send(local, "MAIL FROM:<root>").Code);
        Assert.Equal(250, Send(local, "RCPT TO:<root>").Code);
        Assert.Equal("root", local.From);
        Assert.Equal(["root"], local.Recipients);

        var remote = NewSession();
        Assert.Equal(new SmtpReply(504, "5.5.2 <root>: need a fully-qualified address (bare names only from this host)"), Send(remote, "MAIL FROM:<root>"));
        Assert.Equal(250, Send(remote, "MAIL FROM:<root@b.c>").Code);
        Assert.Equal(504, Send(remote, "RCPT TO:<root>").Code);
        Assert.Equal(250, Send(remote, "RCPT TO:<Postmaster>").Code);
    }

    // Issue 16: with --credentials, a client in --allow-from may send without AUTH.
    [Fact]
    public void AnAllowedClientNeedsNoAuthWhileOthersMust()
    {
        var settings = new SmtpSessionSettings("mx", Limits, new SmtpCredentials("u", "p"), AllowUnencryptedAuth: true);
        var allowed = new SmtpSession(settings, peer: new SmtpPeer(IsLoopback: false, IsAllowed: true));
        Assert.Equal(250, Send(allowed, "MAIL FROM:<a@b.c>").Code);
        var other = new SmtpSession(settings, peer: new SmtpPeer(IsLoopback: false, IsAllowed: false));
        Assert.Equal(530, Send(other, "MAIL FROM:<a@b.c>").Code);
    }

    [Fact]
    public void RcptBeforeMailReturns503()
    {
        var session = NewSession();
        Send(session, "EHLO c");
        Assert.Equal(503, Send(session, "RCPT TO:<a@b.c>").Code);
        Assert.Equal(SessionState.Greeted, session.State);
    }

    [Fact]
    public void DataBeforeRcptReturns503()
    {
        var session = NewSession();
        Assert.Equal(503, Send(session, "DATA").Code);
        Send(session, "MAIL FROM:<a@b.c>");
        Assert.Equal(503, Send(session, "DATA").Code);
        Assert.Equal(SessionAction.None, session.Action);
    }

    [Fact]
    public void SecondMailInATransactionReturns503()
    {
        var session = NewSession();
        Assert.Equal(250, Send(session, "MAIL FROM:<a@b.c>").Code);
        Assert.Equal(503, Send(session, "MAIL FROM:<x@b.c>").Code);
        Assert.Equal("a@b.c", session.From);
    }

    [Fact]
    public void FullTransactionAsksForDataAndEndDataStartsOver()
    {
        var session = NewSession();
        Assert.Equal(250, Send(session, "EHLO client").Code);
        Assert.Equal(new SmtpReply(250, "2.1.0 OK"), Send(session, "MAIL FROM:<>"));
        Assert.Equal(new SmtpReply(250, "2.1.5 OK"), Send(session, "RCPT TO:<a@b.c>"));
        Assert.Equal(250, Send(session, "RCPT TO:<postmaster>").Code);
        Assert.Equal(354, Send(session, "DATA").Code);
        Assert.Equal(SessionAction.ReadData, session.Action);
        Assert.Equal("", session.From);
        Assert.Equal(["a@b.c", "postmaster"], session.Recipients);
        session.EndData();
        Assert.Equal(SessionState.Greeted, session.State);
        Assert.Empty(session.Recipients);
        Assert.Equal(250, Send(session, "MAIL FROM:<second@b.c>").Code);
    }

    [Fact]
    public void MailWithoutHeloIsAcceptedAsFailmailAndPostfixDo()
    {
        var session = NewSession();
        Assert.Equal(250, Send(session, "MAIL FROM:<a@b.c>").Code);
        Assert.Equal(SessionState.HaveMail, session.State);
    }

    [Fact]
    public void EhloInsideATransactionResetsIt()
    {
        var session = NewSession();
        Send(session, "EHLO one");
        Send(session, "MAIL FROM:<a@b.c>");
        Send(session, "RCPT TO:<x@b.c>");
        Assert.Equal(250, Send(session, "EHLO two").Code);
        Assert.Equal(SessionState.Greeted, session.State);
        Assert.Empty(session.Recipients);
        Assert.Equal("two", session.HeloDomain);
    }

    [Fact]
    public void RsetClearsTheTransaction()
    {
        var session = NewSession();
        Send(session, "HELO client");
        Send(session, "MAIL FROM:<a@b.c>");
        Send(session, "RCPT TO:<a@b.c>");
        Assert.Equal(250, Send(session, "RSET").Code);
        Assert.Equal(SessionState.Greeted, session.State);
        Assert.Empty(session.Recipients);
        Assert.Equal(503, Send(session, "DATA").Code);
    }

    [Fact]
    public void RecipientsBeyondTheLimitGet452()
    {
        var session = NewSession();
        Send(session, "MAIL FROM:<a@b.c>");
        for (var i = 0; i < Limits.MaxRecipients; i++)
        {
            Assert.Equal(250, Send(session, $"RCPT TO:<r{i}@b.c>").Code);
        }
        Assert.Equal(new SmtpReply(452, "4.5.3 Too many recipients"), Send(session, "RCPT TO:<more@b.c>"));
        Assert.Equal(Limits.MaxRecipients, session.Recipients.Count);
        Assert.Equal(354, Send(session, "DATA").Code);
    }

    [Fact]
    public void DeclaredSizeOverTheLimitIs552AtMail()
    {
        var session = NewSession();
        Assert.Equal(552, Send(session, "MAIL FROM:<a@b.c> SIZE=1001").Code);
        Assert.Equal(250, Send(session, "MAIL FROM:<a@b.c> SIZE=1000").Code);
    }

    [Theory]
    [InlineData("FOO", 500)]
    [InlineData("EXPN x", 502)]
    [InlineData("VRFY someone", 252)]
    [InlineData("NOOP", 250)]
    [InlineData("HELP", 214)]
    [InlineData("STARTTLS", 502)]
    [InlineData("AUTH PLAIN", 503)]
    [InlineData("MAIL FROM:<a@b.c> RET=HDRS", 555)]
    public void OtherCommandsGetTheirCodes(string line, int code) => Assert.Equal(code, Send(NewSession(), line).Code);

    [Fact]
    public void QuitCloses()
    {
        var session = NewSession();
        Assert.Equal(221, Send(session, "QUIT").Code);
        Assert.Equal(SessionAction.Close, session.Action);
        Assert.Equal(SessionState.Closing, session.State);
    }

    [Fact]
    public void EhloAdvertisesExtensionsAndOnlyUsableAuth()
    {
        var plain = Send(NewSession(), "EHLO c").Text.Split('\n');
        Assert.Equal(["mx Hello c", "PIPELINING", "SIZE 1000", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "HELP"], plain);

        var credentials = new SmtpCredentials("u", "p");
        Assert.DoesNotContain("AUTH PLAIN LOGIN", Send(NewSession(credentials), "EHLO c").Text.Split('\n'));
        Assert.Contains("AUTH PLAIN LOGIN", Send(NewSession(credentials, allowUnencrypted: true), "EHLO c").Text.Split('\n'));
        Assert.Contains("AUTH PLAIN LOGIN", Send(NewSession(credentials, encrypted: true), "EHLO c").Text.Split('\n'));

        var tls = Send(NewSession(credentials, tls: true), "EHLO c").Text.Split('\n');
        Assert.Contains("STARTTLS", tls);
        Assert.DoesNotContain("AUTH PLAIN LOGIN", tls);
    }

    [Fact]
    public void StartTlsResetsEverythingAndIsNotOfferedAgain()
    {
        var session = NewSession(new SmtpCredentials("u", "p"), tls: true);
        Send(session, "EHLO c");
        var reply = Send(session, "STARTTLS");
        Assert.Equal(new SmtpReply(220, "2.0.0 Ready to start TLS"), reply);
        Assert.Equal(SessionAction.StartTls, session.Action);
        session.TlsStarted();
        Assert.Equal(SessionState.Connected, session.State);
        Assert.True(session.Encrypted);
        Assert.Equal("", session.HeloDomain);
        var ehlo = Send(session, "EHLO c").Text.Split('\n');
        Assert.DoesNotContain("STARTTLS", ehlo);
        Assert.Contains("AUTH PLAIN LOGIN", ehlo);
        Assert.Equal(503, Send(session, "STARTTLS").Code);
    }

    [Fact]
    public void MailWithoutAuthIs530WhenCredentialsAreSet()
    {
        var session = Ehlo(NewSession(new SmtpCredentials("u", "p"), allowUnencrypted: true));
        Assert.Equal(new SmtpReply(530, "5.7.0 Authentication required"), Send(session, "MAIL FROM:<a@b.c>"));
        Assert.Equal(530, Send(session, "RCPT TO:<a@b.c>").Code);
        Assert.Equal(530, Send(session, "DATA").Code);
        Assert.Equal(235, Send(session, "AUTH PLAIN " + Plain("u", "p")).Code);
        Assert.True(session.Authenticated);
        Assert.Equal(250, Send(session, "MAIL FROM:<a@b.c>").Code);
        Assert.Equal(503, Send(session, "AUTH PLAIN " + Plain("u", "p")).Code);
    }

    [Fact]
    public void AuthOnPlaintextWithoutPermissionIs538()
    {
        var session = Ehlo(NewSession(new SmtpCredentials("u", "p")));
        Assert.Equal(538, Send(session, "AUTH PLAIN " + Plain("u", "p")).Code);
        Assert.False(session.Authenticated);
    }

    [Fact]
    public void AuthPlainWithContinuation()
    {
        var session = Ehlo(NewSession(new SmtpCredentials("u", "p:with:colons"), allowUnencrypted: true));
        Assert.Equal(new SmtpReply(334, ""), Send(session, "AUTH plain"));
        Assert.True(session.ExpectsAuthResponse);
        Assert.Equal(235, session.HandleAuthResponse(Encoding.ASCII.GetBytes(Plain("u", "p:with:colons"))).Code);
        Assert.False(session.ExpectsAuthResponse);
    }

    [Fact]
    public void AuthLoginAsksForUserThenPassword()
    {
        var session = Ehlo(NewSession(new SmtpCredentials("u", "p"), allowUnencrypted: true));
        Assert.Equal(new SmtpReply(334, "VXNlcm5hbWU6"), Send(session, "AUTH LOGIN"));
        Assert.Equal(new SmtpReply(334, "UGFzc3dvcmQ6"), session.HandleAuthResponse(Encoding.ASCII.GetBytes(B64("u"))));
        Assert.Equal(235, session.HandleAuthResponse(Encoding.ASCII.GetBytes(B64("p"))).Code);
        Assert.True(session.Authenticated);
    }

    [Fact]
    public void AuthErrorsHaveTheirCodes()
    {
        var session = Ehlo(NewSession(new SmtpCredentials("u", "p"), allowUnencrypted: true));
        Assert.Equal(504, Send(session, "AUTH CRAM-MD5").Code);
        Assert.Equal(501, Send(session, "AUTH PLAIN not*base64").Code);
        Assert.Equal(501, Send(session, "AUTH PLAIN " + B64("no-nuls")).Code);
        Send(session, "AUTH LOGIN");
        Assert.Equal(new SmtpReply(501, "5.7.0 Authentication cancelled"), session.HandleAuthResponse("*"u8));
        Assert.False(session.ExpectsAuthResponse);
        Assert.Equal(0, session.AuthFailures);
        Assert.Equal(535, Send(session, "AUTH PLAIN " + Plain("u", "wrong")).Code);
        Assert.Equal(535, Send(session, "AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("other\0u\0p"))).Code);
        Assert.Equal(2, session.AuthFailures);
    }

    [Fact]
    public void TooManyAuthFailuresClose()
    {
        var session = Ehlo(NewSession(new SmtpCredentials("u", "p"), allowUnencrypted: true));
        for (var i = 1; i < SmtpLimits.MaxAuthFailures; i++)
        {
            Assert.Equal(535, Send(session, "AUTH PLAIN " + Plain("u", "x" + i)).Code);
        }
        var last = Send(session, "AUTH PLAIN " + Plain("u", "x"));
        Assert.Equal(421, last.Code);
        Assert.Equal(SessionAction.Close, session.Action);
    }

    [Fact]
    public void AuthDuringATransactionIs503()
    {
        var session = Ehlo(NewSession(new SmtpCredentials("u", "p"), allowUnencrypted: true));
        Send(session, "AUTH PLAIN " + Plain("u", "p"));
        Send(session, "MAIL FROM:<a@b.c>");
        Assert.Equal(503, Send(session, "AUTH PLAIN " + Plain("u", "p")).Code);
    }

    [Fact]
    public void AuthBeforeEhloIs503AndTheSessionGoesOn()
    {
        var session = NewSession(new SmtpCredentials("u", "p"), allowUnencrypted: true);
        Assert.Equal(new SmtpReply(503, "5.5.1 Send HELO/EHLO first"), Send(session, "AUTH PLAIN " + Plain("u", "p")));
        Assert.Equal(503, Send(session, "AUTH LOGIN").Code);
        Assert.False(session.ExpectsAuthResponse);
        Assert.Equal(SessionAction.None, session.Action);
        Assert.False(session.Authenticated);
        Assert.Equal(0, session.AuthFailures);
        Assert.Equal(235, Send(Ehlo(session), "AUTH PLAIN " + Plain("u", "p")).Code);
        Assert.Equal(250, Send(session, "MAIL FROM:<a@b.c>").Code);
    }

    [Fact]
    public void AuthAfterHeloIsAcceptedAsPostfixDoes()
    {
        var session = NewSession(new SmtpCredentials("u", "p"), allowUnencrypted: true);
        Assert.Equal(250, Send(session, "HELO c").Code);
        Assert.Equal(235, Send(session, "AUTH PLAIN " + Plain("u", "p")).Code);
    }

    [Fact]
    public void AfterStartTlsAuthNeedsEhloAgain()
    {
        var session = Ehlo(NewSession(new SmtpCredentials("u", "p"), tls: true));
        Send(session, "STARTTLS");
        session.TlsStarted();
        Assert.Equal(503, Send(session, "AUTH PLAIN " + Plain("u", "p")).Code);
        Assert.Equal(235, Send(Ehlo(session), "AUTH PLAIN " + Plain("u", "p")).Code);
    }

    [Theory]
    [InlineData("AUTH LOGIN")]
    [InlineData("AUTH PLAIN")]
    public void CancelAuthEndsTheExchangeWithoutAFailure(string start)
    {
        var session = Ehlo(NewSession(new SmtpCredentials("u", "p"), allowUnencrypted: true));
        Assert.Equal(334, Send(session, start).Code);
        session.CancelAuth();
        Assert.False(session.ExpectsAuthResponse);
        Assert.Equal(0, session.AuthFailures);
        Assert.Equal(250, Send(session, "NOOP").Code);
        Assert.Equal(334, Send(session, "AUTH LOGIN").Code);
        Assert.Equal(334, session.HandleAuthResponse(Encoding.ASCII.GetBytes(B64("u"))).Code);
        Assert.Equal(235, session.HandleAuthResponse(Encoding.ASCII.GetBytes(B64("p"))).Code);
    }

    [Fact]
    public void ZeroLimitsFromOptionsMeanNoLimit()
    {
        var limits = SmtpLimits.From(new FailmailOptions { MaxMessageSize = 0, CommandTimeout = TimeSpan.Zero, MaxCommandLine = 80 });
        Assert.Equal(long.MaxValue, limits.MaxMessageSize);
        Assert.Equal(Timeout.InfiniteTimeSpan, limits.CommandTimeout);
        Assert.Equal(512, limits.MaxCommandLine);
        var session = new SmtpSession(new SmtpSessionSettings("mx", limits));
        Assert.Contains("SIZE", Send(session, "EHLO c").Text.Split('\n'));
    }

    [Fact]
    public void MultiLineReplyFormatting()
    {
        Assert.Equal("250-a\r\n250-b\r\n250 c\r\n", new SmtpReply(250, "a\nb\nc").ToString());
        Assert.Equal("334 \r\n", new SmtpReply(334, "").ToString());
    }
}
