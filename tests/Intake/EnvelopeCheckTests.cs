using System.Text;
using Failmail.Intake;
using Failmail.Rewriting;
using Failmail.Smtp;

namespace Failmail.Tests.Intake;

public class EnvelopeCheckTests
{
    private static readonly SmtpLimits Limits = new(1000, 512, 3, 10, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10));

    private static SmtpSession Session(EnvelopeCheck check) => new(new SmtpSessionSettings("mx", Limits, Envelope: check));

    private static SmtpReply Send(SmtpSession session, string line) => session.Handle(SmtpCommandParser.Parse(Encoding.UTF8.GetBytes(line)));

    [Fact]
    public void AddressesWithOddDotsAreAcceptedBecauseTheyCanBeCarried()
    {
        var session = Session(new EnvelopeCheck(null, RecipientRewriter.None));
        Assert.Equal(250, Send(session, "MAIL FROM:<a..b@x.test>").Code);
        Assert.Equal(250, Send(session, "RCPT TO:<a..b@y.test>").Code);
        Assert.Equal(250, Send(session, "RCPT TO:<.a@y.test>").Code);
        Assert.Equal(250, Send(session, "RCPT TO:<a.@y.test>").Code);
        Assert.Equal(3, session.Recipients.Count);
    }

    [Fact]
    public void ARecipientTheRewriteTurnsIntoAnUncarriableAddressGets553AtRcpt()
    {
        // failmail's --rewrite-src/--rewrite-dest may produce anything; a space is no mailbox.
        var session = Session(new EnvelopeCheck(null, new RecipientRewriter("(.*)@x\\.test", "$1 x@y.test")));
        Assert.Equal(250, Send(session, "MAIL FROM:<app@host.test>").Code);
        var refused = Send(session, "RCPT TO:<ops@x.test>");
        Assert.Equal(553, refused.Code);
        Assert.Contains("5.1.3", refused.Text, StringComparison.Ordinal);
        Assert.Contains("ops x@y.test", refused.Text, StringComparison.Ordinal);
        Assert.Empty(session.Recipients);
        Assert.Equal(250, Send(session, "RCPT TO:<ops@other.test>").Code);
        Assert.Equal(["ops@other.test"], session.Recipients);
    }

    [Fact]
    public void AQuotedLocalPartHoldingACarriageReturnIsASyntaxError()
    {
        var session = Session(new EnvelopeCheck(null, RecipientRewriter.None));
        Assert.Equal(250, Send(session, "MAIL FROM:<app@host.test>").Code);
        Assert.Equal(501, Send(session, "RCPT TO:<\"a\\\rb\"@y.test>").Code);
        Assert.Empty(session.Recipients);
    }
}
