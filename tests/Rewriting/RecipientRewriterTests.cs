using Failmail.Rewriting;
using Failmail.Smtp;

namespace Failmail.Tests.Rewriting;

public class RecipientRewriterTests
{
    [Fact]
    public void RewriteEverything() =>
        Assert.Equal("user@example.com", new RecipientRewriter(".*", "user@example.com").Rewrite("test@example.com"));

    [Fact]
    public void RewriteMatchingAndKeepTheRest()
    {
        var rewriter = new RecipientRewriter(@"failmail\+([^@]*)@example.com", "$1@example.com");
        Assert.Equal("user@example.com", rewriter.Rewrite("failmail+user@example.com"));
        Assert.Equal("test@example.com", rewriter.Rewrite("test@example.com"));
    }

    [Fact]
    public void RewriteAllDedupsAndSorts()
    {
        var rewriter = new RecipientRewriter(@"failmail\+([^@]*)@example.com", "$1@example.com");
        Assert.Equal(
            ["root@example.com", "test@example.com"],
            rewriter.RewriteAll(["test@example.com", "failmail+test@example.com", "root@example.com"]));
    }

    [Fact]
    public void WithoutARegexRecipientsAreStillDedupedAndSortedOrdinally() =>
        Assert.Equal(["B@x", "a@x", "b@x"], RecipientRewriter.None.RewriteAll(["b@x", "a@x", "B@x", "b@x"]));

    [Fact]
    public void GoNamedGroupsAreTranslatedAndNumberedLeftToRight()
    {
        var rewriter = new RecipientRewriter(@"(?P<user>[^@]+)@(\w+)\.com", "${user}-$2-$1");
        Assert.Equal("ops-corp-ops", rewriter.Rewrite("ops@corp.com"));
    }

    [Fact]
    public void EachMatchAppendsTheTemplateAndUnmatchedTextIsDropped()
    {
        var rewriter = new RecipientRewriter("[a-z]", "<$0>");
        Assert.Equal("<a><b>", rewriter.Rewrite("a1b"));
    }

    [Theory]
    [InlineData("$$", "$")]
    [InlineData("$1_x", "")]
    [InlineData("${1}_x", "a_x")]
    [InlineData("$9", "")]
    [InlineData("${", "${")]
    [InlineData("$-", "$-")]
    [InlineData("$name", "")]
    public void GoTemplateExpansionRules(string template, string expected) =>
        Assert.Equal(expected, new RecipientRewriter("(a)", template).Rewrite("a"));

    [Fact]
    public void GoDigitClassIsAsciiOnly() =>
        Assert.Equal("x٣@y", new RecipientRewriter(@"^x\d@y$", "matched").Rewrite("x٣@y"));

    [Fact]
    public void EmptyMatchesFollowGoFindAll() =>
        // Go: "a*" against "baaac" matches "" at 0, "aaa" at 1-4, skips the empty match at 4
        // (right after the previous match) and takes the empty match at 5.
        Assert.Equal("[][aaa][]", new RecipientRewriter("a*", "[$0]").Rewrite("baaac"));

    [Fact]
    public void OnlyOneOfSourceAndDestIsAnError() =>
        Assert.Throws<ArgumentException>(() => new RecipientRewriter("x", ""));

    [Fact]
    public void InvalidRegexIsAnArgumentException() =>
        Assert.Throws<ArgumentException>(() => new RecipientRewriter("(", "x"));
}
