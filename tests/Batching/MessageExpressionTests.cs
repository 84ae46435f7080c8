using Failmail.Batching;
using Failmail.Maildir;
using MimeKit;

namespace Failmail.Tests.Batching;

public class MessageExpressionTests
{
    private static DotLiquid.Hash Vars(string raw, Envelope? envelope = null)
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(raw.ReplaceLineEndings("\r\n")));
        return MessageVariables.Build(MimeMessage.Load(stream), envelope, includeBody: true);
    }

    private static readonly string Vector = "Subject: that test\nX-Batch: 100\n\nbody\n";

    private static string Eval(string expr, string raw) => MessageExpression.Create("--batch-expr", expr).Evaluate(Vars(raw));

    // spec §9 items 43 and 44.
    [Theory]
    [InlineData("{{match \"^(this|that)\" (.Header.Get \"Subject\")}}", "that")]
    [InlineData("{{replace \"^(this|that)\" (.Header.Get \"Subject\") \"*\"}}", "* test")]
    [InlineData("{{.Header.Get \"X-Batch\"}}", "100")]
    [InlineData("{{ headers.subject | match: \"^(this|that)\" }}", "that")]
    [InlineData("{{ headers[\"X-Batch\"] }}", "100")]
    [InlineData("{{ headers[\"x-batch\"] }}", "100")]
    [InlineData("{{ subject | replace: \"^(this|that)\", \"*\" }}", "* test")]
    [InlineData("{{.Header.Get \"X-Failmail-Split\"}}", "")]
    [InlineData("{{.Header.Get \"Subject\"}}", "that test")]
    [InlineData("[{{match \"\\[\\w+\\]\" (.Header.Get \"Subject\")}}]", "[]")]
    [InlineData("{{ body | strip }}", "body")]
    public void FailmailVectors(string expr, string expected)
    {
        Assert.Equal(expected, Eval(expr, Vector));
    }

    [Theory]
    [InlineData("{{match \"\\[\\w+\\]\" (.Header.Get \"Subject\")}}", "[web1]")]
    [InlineData("{{match `\\[\\w+\\]` (.Header.Get \"Subject\")}}", "[web1]")]
    [InlineData("{{replace \"\\[\\w+\\]\" (.Header.Get \"Subject\") \"*\"}}", "* disk full on /var")]
    [InlineData("{{replace \"(?P<host>web)(\\d)\" (.Header.Get \"Subject\") \"${host}-$2\"}}", "[web-1] disk full on /var")]
    [InlineData("{{replace \"(\\d)\" (.Header.Get \"Subject\") \"$1x\"}}", "[web] disk full on /var")]
    [InlineData("{{replace \"a*\" \"baaac\" \"-\"}}", "-b-c-")]
    [InlineData("{{replace \"full$\" \"full\\n\" \"X\"}}", "full\n")]
    [InlineData("{{match \"^\\w+\" \"été\"}}", "")]
    [InlineData("{{match \"(a+)+b\" \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac\"}}", "")]
    [InlineData("{{match \"(?i)DISK\" (.Header.Get \"Subject\")}}", "disk")]
    public void GoRegexSemantics(string expr, string expected)
    {
        Assert.Equal(expected, Eval(expr, "Subject: [web1] disk full on /var\n\nx\n"));
    }

    // issue 13: the normalize filter, Liquid and Go form, alone and combined with replace.
    [Theory]
    [InlineData("{{ subject | normalize }}", "disk <num>% full on web-<num>")]
    [InlineData("{{normalize (.Header.Get \"Subject\")}}", "disk <num>% full on web-<num>")]
    [InlineData("{{.Header.Get \"Subject\" | normalize}}", "disk <num>% full on web-<num>")]
    [InlineData("{{normalize (replace \"web-\\d+\" (.Header.Get \"Subject\") \"web\")}}", "disk <num>% full on web")]
    [InlineData("{{ headers.subject | normalize | upcase }}", "DISK <NUM>% FULL ON WEB-<NUM>")]
    public void NormalizeFilter(string expr, string expected)
    {
        Assert.Equal(expected, Eval(expr, "Subject: disk 91% full on web-17\n\nx\n"));
    }

    [Fact]
    public void NormalizeTakesOneArgument()
    {
        var e = Assert.Throws<ExpressionException>(() => MessageExpression.Create("--group-expr", "{{normalize \"a\" \"b\"}}"));
        Assert.Contains("normalize takes 1 argument (normalize TEXT), got 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HeadersAreDecodedAndLookedUpCaseInsensitively()
    {
        var vars = Vars("subject: =?utf-8?q?caf=C3=A9?=\nx-FAILMAIL-split: a\n  b\n\nx\n");
        Assert.Equal("café", MessageExpression.Create("--group-expr", "{{.Header.Get \"Subject\"}}").Evaluate(vars));
        Assert.Equal("a b", MessageExpression.Create("--batch-expr", "{{.Header.Get \"X-Failmail-Split\"}}").Evaluate(vars));
        Assert.Equal("a b", MessageExpression.Create("--batch-expr", "{{ headers[\"X-Failmail-Split\"] | strip }}").Evaluate(vars));
    }

    [Fact]
    public void EnvelopeIsAvailable()
    {
        var envelope = new Envelope("app@example.com", new[] { "ops@example.com", "dev@example.com" }, DateTimeOffset.UnixEpoch, "127.0.0.1");
        var vars = Vars(Vector, envelope);
        var expr = MessageExpression.Create("--batch-expr", "{{ envelope.from }} {{ envelope.to | join: \",\" }}");
        Assert.Equal("app@example.com ops@example.com,dev@example.com", expr.Evaluate(vars));
    }

    [Fact]
    public void BadRegexIsAStartupErrorNamingTheFlag()
    {
        var e = Assert.Throws<ExpressionException>(() => MessageExpression.Create("--group-expr", "{{match \"[\" (.Header.Get \"Subject\")}}"));
        Assert.StartsWith("--group-expr: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("as DotLiquid", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownFilterIsAStartupError()
    {
        var e = Assert.Throws<ExpressionException>(() => MessageExpression.Create("--group-expr", "{{ subject | matc: \"x\" }}"));
        Assert.Equal("--group-expr: unknown filter 'matc' in {{ subject | matc: \"x\" }} (failmail adds 'match', 'replace' and 'normalize' to DotLiquid's standard filters)", e.Message);
    }

    [Fact]
    public void LiquidSyntaxErrorIsAStartupError()
    {
        var e = Assert.Throws<ExpressionException>(() => MessageExpression.Create("--batch-expr", "{% if subject %}x"));
        Assert.StartsWith("--batch-expr: cannot parse template", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NeedsBodyOnlyWhenTheBodyIsUsed()
    {
        Assert.False(MessageExpression.Create("--group-expr", "{{.Header.Get \"Subject\"}}").NeedsBody);
        Assert.True(MessageExpression.Create("--group-expr", "{{ body | truncate: 20 }}").NeedsBody);
    }

    // Issue 11: DotLiquid parsed these without an error and rendered "" for every message.
    [Theory]
    [InlineData("--group-expr", "{{ headers[\"x\" }}", "--group-expr: syntax error at column 16: expected ']' to close '[' at column 11, found '}}'")]
    [InlineData("--batch-expr", "{{ headers[\"x\"] | }}", "--batch-expr: syntax error at column 19: expected a filter name after '|', found '}}'")]
    [InlineData("--group-expr", "{{ .Header.Get \"x\" ", "--group-expr: syntax error at column 20: unclosed action (missing \"}}\") in Go template \"{{ .Header.Get \\\"x\\\" \"")]
    [InlineData("--group-expr", "{{match \"x}}", "--group-expr: syntax error at column 13: unterminated string in Go template \"{{match \\\"x}}\"")]
    public void SyntaxErrorsNameTheFlagAndTheColumn(string flag, string source, string expected)
    {
        var e = Assert.Throws<ExpressionException>(() => MessageExpression.Create(flag, source));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void TheCorrectedFormWorks()
    {
        Assert.Equal("100", Eval("{{ headers[\"x-batch\"] }}", Vector));
        Assert.Equal("100", Eval("{{ headers[\"x-batch\"] | strip }}", Vector));
    }
}
